// What a process costs, read from outside it so that the apps stay free of benchmark code.
// Linux /proc only; elsewhere the figures are reported as unknown (null).
// Shared by the overhead harness (run.mjs) and benchmarks/cpu/cpu-per-request.mjs, so that both
// count a request's CPU the same way.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU nanoseconds the process has run so far, summed over all its live threads (main thread,
 * libuv pool, V8 platform workers, a loader or exporter thread), from /proc/<pid>/task/<tid>/schedstat.
 * Nanosecond resolution, where /proc/<pid>/stat counts clock ticks of 10 ms. A thread that ended
 * between two readings drops out of the second one, so read around a window in which the server
 * keeps its threads (all of ours do under steady load). Null when /proc cannot be read.
 */
export function threadCpuNs(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let total = 0;
  for (const tid of tids) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total;
}

/** CPU nanoseconds of the process's main thread (the event loop) so far, or null. */
export function mainThreadCpuNs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/**
 * The process's minor and major page faults and its user and system CPU (clock ticks, 10 ms) so far,
 * live and ended threads together, from /proc/<pid>/stat; or null.
 */
export function faultsAndTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised name, from field 3 (state): minflt is field 10, majflt 12, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return { minflt: f[7], majflt: f[9], utime: f[11], stime: f[12] };
  } catch {
    return null;
  }
}

/** CPU µs per request between two threadCpuNs readings, or null when either is unknown. */
export function cpuUsPerRequest(beforeNs, afterNs, requests) {
  if (beforeNs == null || afterNs == null || !(requests > 0)) return null;
  return (afterNs - beforeNs) / 1000 / requests;
}

/** Resident set size in bytes, or null. */
export function rssBytes(pid) {
  return statusKb(pid, 'VmRSS');
}

/** Peak resident set size so far (the high-water mark) in bytes, or null. */
export function peakRssBytes(pid) {
  return statusKb(pid, 'VmHWM');
}

function statusKb(pid, field) {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Busy and total clock ticks of each CPU so far, from /proc/stat (user, nice, system, irq, softirq,
 * steal count as busy; idle and iowait do not). Null when /proc/stat cannot be read. Read around a
 * window with cpuShare() to see how much of a core's time went to work other than the process measured.
 */
export function cpuTicks() {
  try {
    const out = {};
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(/\s+/).map(Number);
      const busy = user + nice + system + irq + softirq + (steal || 0);
      out[m[1]] = { busy, total: busy + idle + iowait };
    }
    return out;
  } catch {
    return null;
  }
}

/** Share (0 - 1) of `cpu`'s time between two cpuTicks() readings that was busy, or null. */
export function busyShare(before, after, cpu) {
  const a = before?.[cpu];
  const b = after?.[cpu];
  if (!a || !b || b.total <= a.total) return null;
  return (b.busy - a.busy) / (b.total - a.total);
}
