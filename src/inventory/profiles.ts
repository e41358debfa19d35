/**
 * Hardware profile names: a leaf module, so the service schema (src/services/schema.ts) can use
 * them while the inventory schema imports the service schema, without an import cycle.
 * src/agent/profile.ts decides which profile a box gets.
 */
export const HARDWARE_PROFILES = ['auto', 'raspberry-pi', 'intel-quicksync', 'nvidia', 'amd-vaapi', 'generic'] as const;
