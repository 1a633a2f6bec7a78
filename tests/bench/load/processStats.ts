/**
 * CPU time and memory of one server process, read from /proc (Linux). The benchmark measures the
 * server's own node process, not the load generator that shares the machine with it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSecond: number | null = null;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux we run on, but ask). */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    const answer = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticksPerSecond = Number.isFinite(answer) && answer > 0 ? answer : 100;
  }
  return ticksPerSecond;
}

/** User + system CPU time the process has used so far, in milliseconds (children excluded). */
export function cpuMillis(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`unreadable /proc/${pid}/stat`);
  return (ticks * 1000) / clockTicksPerSecond();
}

function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
  if (!kb) throw new Error(`no ${field} for pid ${pid}`);
  return Number(kb) * 1024;
}

/** Resident set size now, in bytes. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/** Peak resident set size over the process's life so far (the kernel's high-water mark), in bytes. */
export function peakRssBytes(pid: number): number {
  return statusBytes(pid, 'VmHWM');
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No /proc entry: the process is gone, which is the answer.
    return false;
  }
}
