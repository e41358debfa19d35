/**
 * How the agent starts, stops and restarts a service, and asks whether it runs: `systemd` on
 * real boxes (systemctl), `process` for the lab and boxes without systemd (the agent spawns and
 * owns the process). One driver object per service.
 */
export type DriverKind = 'systemd' | 'process';
export const DRIVER_KINDS: readonly DriverKind[] = ['systemd', 'process'];

export interface DriverStatus {
  /** The service runs (or is starting): probes may reach it. False: it is down and probes need not try. */
  running: boolean;
  /** Seconds since it last started, when the driver knows (the start grace counts from there). */
  uptimeSeconds?: number;
  /** One line for people: `ActiveState=failed (Result=exit-code)`, `exited with code 1`, `pid 4242`. */
  detail: string;
}

export interface ServiceDriver {
  readonly kind: DriverKind;
  /** Starts the service; nothing to do when it runs. Rejects with E_SERVICE_DRIVER when it cannot. */
  start(): Promise<void>;
  /** Stops it; nothing to do when it is down. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  status(): Promise<DriverStatus>;
}
