import { describe, expect, it } from 'vitest';
import type { ServiceView } from '../../../controller/services/manager.js';
import { renderServices } from './placement.js';

const view = (name: string, extra: Partial<ServiceView>): ServiceView => ({
  name, primary: 'eden', replicas: ['rivers'], epoch: 2, singleWriter: true, health: { eden: 'healthy', rivers: 'stopped' }, reasons: [], unplaceable: null, ...extra,
});

describe('services show', () => {
  it('shows each server\'s status verdict and version, and the detail of those that are not healthy', () => {
    const text = renderServices([
      view('sonarr', { status: { eden: { verdict: 'healthy', detail: 'sonarr: HTTP 200', checkedAt: 1, version: '4.0.15.2941' } } }),
      view('radarr', { status: { eden: { verdict: 'misconfigured', detail: 'radarr refused the agent\'s key or credential [HTTP 401]', checkedAt: 1 } } }),
      view('jellyfin', {}),
    ]);
    expect(text).toMatch(/^SERVICE\s+PRIMARY\s+REPLICAS\s+EPOCH\s+HEALTH\s+STATUS\s+WHY$/m);
    expect(text).toMatch(/^sonarr\s+eden\s+rivers\s+2\s+eden:healthy rivers:stopped\s+eden:healthy\(4\.0\.15\.2941\)\s+-$/m);
    expect(text).toMatch(/^radarr\s+.*\s+eden:misconfigured\s+-$/m);
    expect(text).toMatch(/^jellyfin\s+.*stopped\s+-\s+-$/m);
    expect(text).toContain('radarr on eden: status misconfigured: radarr refused the agent\'s key or credential [HTTP 401]\n');
    expect(text).not.toContain('sonarr on eden');
  });
});
