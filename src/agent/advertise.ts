/**
 * The agent's `_cistern._tcp` record: who it is (name, key fingerprint, profile, hardware) and,
 * once registered, its agent id, so the controller tells pending boxes from fleet members.
 */
import { AGENT_PORT, AGENT_SERVICE, agentInstanceName, agentTxt, hardwareSummary, shortFingerprint, type AgentAdvert } from '../discovery/records.js';
import type { Advertisement, Mdns } from '../discovery/mdns.js';
import type { Facts } from './facts-schema.js';
import { effectiveProfile } from './profile.js';
import { VERSION } from '../version.js';

export interface AgentAdvertisement {
  /** Re-announces with the agent id the controller gave. */
  registered(agentId: string): Promise<void>;
  stop(): Promise<void>;
}

export function advertiseAgent(mdns: Mdns, options: { id: string; name: string; fingerprint: string; facts: Facts }): AgentAdvertisement {
  let advert: AgentAdvert = {
    id: options.id, name: options.name, version: VERSION, fingerprint: options.fingerprint,
    profile: effectiveProfile({}, options.facts).profile, hardware: hardwareSummary(options.facts),
  };
  const published: Advertisement = mdns.advertise({
    type: AGENT_SERVICE, name: agentInstanceName(options.name, options.fingerprint), port: AGENT_PORT,
    // A target name of our own: boxes cloned from one image share an OS host name, and a box
    // running Avahi owns `HOSTNAME.local`; publishing a different address set for it would make
    // Avahi rename the whole machine.
    host: `cistern-${shortFingerprint(options.fingerprint)}.local`, txt: agentTxt(advert),
  });
  return {
    async registered(agentId) {
      if (advert.id === agentId) return;
      advert = { ...advert, id: agentId };
      await published.update(agentTxt(advert));
    },
    stop: () => published.stop(),
  };
}
