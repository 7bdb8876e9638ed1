// Preloaded by profile.mjs: ends the app after PROFILE_EXIT_AFTER_MS with process.exit(), the exit
// on which Node writes a --cpu-prof profile (a signal would leave none).
const ms = Number(process.env.PROFILE_EXIT_AFTER_MS);
if (ms > 0) setTimeout(() => process.exit(0), ms).unref();
