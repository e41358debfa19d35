/**
 * What an agent reports about its box. The agent sends it to the controller and the controller
 * stores it, so this is a wire format: fields are only ever added, and a value the agent could
 * not find is null (or an empty list), never a guess. `gaps` names each source that failed or
 * timed out, so partial facts are told apart from a box that simply has no GPU.
 */
import { z } from 'zod';

export const GPU_VENDORS = ['intel', 'amd', 'nvidia', 'broadcom', 'other'] as const;
export type GpuVendor = (typeof GPU_VENDORS)[number];

const bytes = z.number().nonnegative();

export const diskSchema = z.object({
  /** `/dev/sda1`, `/dev/mapper/vg-data`, `tank/media` (ZFS), `tmpfs`… */
  device: z.string(),
  /** The whole disk this lives on (`/dev/sda` for `/dev/sda1`); equals `device` for a whole disk. */
  disk: z.string().nullable(),
  /** Null for a whole disk that is not itself mounted. */
  mount: z.string().nullable(),
  fsType: z.string().nullable(),
  sizeBytes: bytes,
  /** Free space for a mounted filesystem; null for an unmounted disk. */
  freeBytes: bytes.nullable(),
  /** From the kernel (`/sys/block/X/queue/rotational`); null when it cannot tell. */
  rotational: z.boolean().nullable(),
});

export const gpuSchema = z.object({
  vendor: z.enum(GPU_VENDORS),
  /** Marketing name with the vendor first, e.g. "Intel UHD Graphics 630". */
  model: z.string(),
  /** `/dev/dri/renderD128`, or null when the GPU has no render node (no driver loaded). */
  renderNode: z.string().nullable(),
});

export const factsSchema = z.object({
  hostname: z.string(),
  /** The kernel's machine name (`uname -m`): x86_64, aarch64, armv7l. */
  architecture: z.string(),
  cpu: z.object({
    model: z.string(),
    vendor: z.string(),
    /** Physical cores. */
    cores: z.int().positive().nullable(),
    /** Logical processors (hardware threads). */
    threads: z.int().positive().nullable(),
  }),
  memory: z.object({ totalBytes: bytes.nullable() }),
  disks: z.array(diskSchema),
  gpus: z.array(gpuSchema),
  transcoding: z.object({
    renderNodes: z.array(z.string()),
    quickSync: z.boolean(),
    vaapi: z.boolean(),
    nvenc: z.boolean(),
  }),
  /** The device-tree model, e.g. "Raspberry Pi 4 Model B Rev 1.4"; null on PCs. */
  deviceModel: z.string().nullable(),
  os: z.object({
    name: z.string(),
    id: z.string(),
    version: z.string(),
    /** NixOS BUILD_ID (or VERSION_ID), e.g. "24.05.20240605.abc1234"; null on other systems. */
    nixosVersion: z.string().nullable(),
  }),
  /** Network interfaces other than loopback. */
  interfaces: z.array(z.object({ name: z.string(), mac: z.string().nullable(), addresses: z.array(z.string()) })),
  collectedAt: z.iso.datetime({ offset: true }),
  /** Sources that failed or timed out, as "source: reason". Empty when the facts are complete. */
  gaps: z.array(z.string()),
});

export type Facts = z.infer<typeof factsSchema>;
export type DiskFact = z.infer<typeof diskSchema>;
export type GpuFact = z.infer<typeof gpuSchema>;
