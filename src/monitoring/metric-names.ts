/**
 * Every metric name Cistern's own processes export, in one place: the agent and controller
 * register them from here, and alert rules and dashboards may use only these (plus the named
 * exporters' metrics below). A test checks that every name a rule or dashboard uses is listed.
 */

/** Served by each agent at https://AGENT:9810/metrics. */
export const AGENT_METRICS = {
  /** 1 when the service's last probe verdict was healthy, else 0; labels: service. */
  serviceUp: 'cistern_agent_service_up',
  /** Probe verdict as a state set: 1 for the current one; labels: service, state (healthy|starting|unhealthy|misconfigured|failed|stopped). */
  serviceState: 'cistern_agent_service_state',
  /** Histogram of probe durations in seconds; labels: service. */
  probeDuration: 'cistern_agent_service_probe_duration_seconds',
  /** Counter of restarts the agent made; labels: service. */
  restarts: 'cistern_agent_service_restarts_total',
  /** The authenticated status probe's last verdict as a state set: 1 for the current one; labels: service, verdict (healthy|starting|unhealthy|misconfigured). Absent without a key. */
  serviceStatus: 'cistern_agent_service_status',
  /** The lease epoch the agent holds for a single-writer service (0: none); labels: service. */
  leaseEpoch: 'cistern_agent_service_lease_epoch',
  /** 1 while the agent's connection to the controller is open. */
  connected: 'cistern_agent_controller_connected',
  /** Histogram of heartbeat round trips in seconds. */
  heartbeatRtt: 'cistern_agent_heartbeat_rtt_seconds',
  /** Seconds since the last acknowledged heartbeat. */
  heartbeatAge: 'cistern_agent_heartbeat_age_seconds',
  /** 1, with labels version and profile. */
  info: 'cistern_agent_info',
} as const;

/** Served by the controller at https://CONTROLLER:7443/metrics. */
export const CONTROLLER_METRICS = {
  /** Servers by health; labels: health (healthy|suspect|degraded|unreachable|down|unknown). */
  servers: 'cistern_servers',
  /** Histogram of heartbeat delay (controller receive time minus agent send time) in seconds. */
  heartbeatLatency: 'cistern_heartbeat_latency_seconds',
  /** Seconds since each server's last heartbeat; labels: server. */
  heartbeatAge: 'cistern_server_heartbeat_age_seconds',
  /** Counter of registrations; labels: via (token|provisioning|approval). */
  registrations: 'cistern_registrations_total',
  /** Counter of placement runs; labels: outcome (applied|unchanged|failed). */
  placements: 'cistern_placements_total',
  /** Services that could not be placed. */
  unplaceable: 'cistern_services_unplaceable',
  /** Counter of failovers; labels: service, cause. */
  failovers: 'cistern_failovers_total',
  /** Histogram of API request durations in seconds; labels: method, route, status. */
  apiDuration: 'cistern_api_request_duration_seconds',
  /** Boxes waiting in `cistern discover`. */
  pending: 'cistern_discovered_pending',
  /** Unix time a backup last succeeded; labels: server, service. */
  backupLastSuccess: 'cistern_backup_last_success_timestamp_seconds',
  /** Unix time each TLS certificate the controller serves expires; labels: name. */
  certificateExpiry: 'cistern_certificate_expiry_timestamp_seconds',
} as const;

/** Metrics of exporters the generated config scrapes, which rules and dashboards may use. */
export const EXPORTER_METRICS = {
  nodeExporter: [
    'node_cpu_seconds_total', 'node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes', 'node_filesystem_avail_bytes',
    'node_filesystem_size_bytes', 'node_load1', 'node_hwmon_temp_celsius', 'node_thermal_zone_temp', 'node_network_receive_bytes_total',
    'node_network_transmit_bytes_total', 'node_boot_time_seconds',
  ],
  /** exportarr, one per app: `<app>_system_status` and friends. */
  exportarr: ['sonarr_system_status', 'radarr_system_status', 'prowlarr_system_status', 'bazarr_system_status', 'sabnzbd_system_status', 'sonarr_system_health_issues', 'radarr_system_health_issues'],
  /** Prometheus itself, for every target. */
  prometheus: ['up', 'scrape_duration_seconds'],
} as const;
