/**
 * What a heartbeat reports about the box: load average, CPU use since the last sample, memory
 * and root-disk use. Read from the kernel through Node's os and statfs — cheap enough to run
 * every few seconds, unlike a full fact collection.
 */
import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Load } from '../protocol/messages.js';

interface CpuTimes { idle: number; total: number }

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

export function loadSampler(diskPath = '/'): () => Promise<Load> {
  let previous = cpuTimes();
  return async () => {
    const now = cpuTimes();
    const total = now.total - previous.total;
    const cpuPercent = total > 0 ? Math.min(100, Math.max(0, (1 - (now.idle - previous.idle) / total) * 100)) : 0;
    previous = now;
    const disk = await statfs(diskPath).catch(() => undefined);
    const diskTotal = disk ? disk.blocks * disk.bsize : 0;
    const diskFree = disk ? disk.bavail * disk.bsize : 0;
    return {
      load1: loadavg()[0] ?? 0,
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      memoryUsedBytes: totalmem() - freemem(),
      memoryTotalBytes: totalmem(),
      diskUsedBytes: Math.max(0, diskTotal - diskFree),
      diskTotalBytes: diskTotal,
    };
  };
}
