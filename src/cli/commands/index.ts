/** Every command group and command of the CLI, in the order `--help` lists them. */
import type { CommandDef, GroupDef } from '../command.js';
import { agentCommand } from './fleet/agent.js';
import { controllerCommand } from './fleet/controller.js';
import { eventsCommand } from './fleet/events.js';
import { serverFactsCommand, serverPingCommand, serverRevokeCommand, serverShowCommand } from './fleet/server.js';
import { serverSetServicesCommand } from './fleet/server-services.js';
import { statusCommand } from './fleet/status.js';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './fleet/token.js';
import { discoverApproveCommand, discoverCommand } from './fleet/discover.js';
import { discoverRejectCommand, discoverRejectedCommand, discoverUnrejectCommand } from './fleet/discover-reject.js';
import { upCommand } from './fleet/up.js';
import { addCommand } from './inventory/add.js';
import { groupsCommand } from './inventory/groups.js';
import { SELECTOR_HELP } from './inventory/help.js';
import { listCommand } from './inventory/list.js';
import { removeCommand } from './inventory/remove.js';
import { renderCommand } from './inventory/render.js';
import { schemaCommand } from './inventory/schema.js';
import { setCommand } from './inventory/set.js';
import { showCommand } from './inventory/show.js';
import { tagAddCommand, untagCommand } from './inventory/tag.js';
import { validateCommand } from './inventory/validate.js';
import { keysAddCommand } from './keys/add.js';
import { KEYS_HELP } from './keys/help.js';
import { keysListCommand } from './keys/list.js';
import { keysRemoveCommand } from './keys/remove.js';
import { keysRotateCommand } from './keys/rotate.js';
import { keysSyncCommand } from './keys/sync.js';
import { servicesCatalogCommand } from './services/catalog.js';
import { alertsCommand, failoverCommand, servicesApplyCommand, servicesMoveCommand, servicesPlanCommand, servicesShowCommand } from './services/placement.js';
import { monitoringGenerateCommand } from './monitoring/generate.js';
import { MONITORING_HELP } from './monitoring/help.js';
import { monitoringTargetsCommand } from './monitoring/targets.js';
import { monitoringTokenCommand } from './monitoring/token.js';
import { storagePlanCommand } from './storage/plan.js';

export const groups: GroupDef[] = [
  { path: ['inventory'], summary: 'read, check and edit inventory.yaml', help: SELECTOR_HELP },
  { path: ['server'], summary: 'one registered server: details, commands, revocation' },
  { path: ['token'], summary: 'join tokens and provisioning keys for new agents' },
  { path: ['keys'], summary: 'SSH keys of the deploy users: list, add, remove, rotate, sync', help: KEYS_HELP },
  { path: ['services'], summary: 'the service catalog, and where each service runs: show, plan, apply, move' },
  { path: ['monitoring'], summary: 'Prometheus and Alertmanager: scrape token, generated configuration, targets', help: MONITORING_HELP },
  { path: ['storage'], summary: 'shared media storage: which server exports the media root, who mounts it' },
];

export const commands = [
  upCommand, statusCommand, eventsCommand, controllerCommand, agentCommand,
  serverShowCommand, serverPingCommand, serverFactsCommand, serverRevokeCommand, serverSetServicesCommand,
  tokenCreateCommand, tokenListCommand, tokenRevokeCommand,
  discoverCommand, discoverApproveCommand, discoverRejectCommand, discoverRejectedCommand, discoverUnrejectCommand,
  listCommand, showCommand, addCommand, removeCommand, setCommand, tagAddCommand, untagCommand,
  groupsCommand, validateCommand, schemaCommand, renderCommand,
  keysListCommand, keysAddCommand, keysRemoveCommand, keysRotateCommand, keysSyncCommand,
  servicesCatalogCommand, servicesShowCommand, servicesPlanCommand, servicesApplyCommand, servicesMoveCommand, failoverCommand, alertsCommand,
  monitoringTokenCommand, monitoringGenerateCommand, monitoringTargetsCommand,
  storagePlanCommand,
] as unknown as CommandDef<never>[];
