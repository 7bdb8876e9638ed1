// Starts one of benchmarks/overhead/apps in this process and resolves with the port it listens on.
// The apps announce it on the console ("listening on <port>"): console.log is watched until then.
export function listeningPort(appUrl) {
  return new Promise((resolve) => {
    const log = console.log;
    console.log = (line) => {
      const m = /listening on (\d+)/.exec(String(line));
      if (m) {
        console.log = log;
        resolve(Number(m[1]));
      }
    };
    import(appUrl);
  });
}
