import { z } from 'zod';
import { editInventory } from '../../../inventory/store.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption, rawServers, requireServer } from './shared.js';

function tagCommand(mode: 'tag' | 'untag') {
  return defineCommand({
    path: ['inventory', mode],
    summary: mode === 'tag' ? 'add tags to a server' : 'remove tags from a server',
    args: [
      { name: 'name', description: 'server name' },
      { name: 'tags', description: 'tags', variadic: true },
    ],
    options: [fileOption],
    input: z.object({ ...fileInput, name: z.string(), tags: z.array(z.string()).min(1) }),
    async handler(input, ctx) {
      const file = fileFrom(input, ctx);
      let tags: string[] = [];
      const result = await editInventory(file, (data, current) => {
        requireServer(current, input.name);
        const server = rawServers(data)[input.name] as Record<string, unknown>;
        const existing = Array.isArray(server.tags) ? (server.tags as string[]) : [];
        tags = mode === 'tag'
          ? [...existing, ...input.tags.filter((t, i) => !existing.includes(t) && input.tags.indexOf(t) === i)]
          : existing.filter((t) => !input.tags.includes(t));
        if (tags.length > 0) server.tags = tags;
        else delete server.tags;
      });
      return {
        data: { file, server: input.name, tags, changed: result.changed },
        text: `${input.name}: tags ${tags.join(', ') || '(none)'}${result.changed ? '' : ' (unchanged)'}`,
      };
    },
  });
}

export const tagAddCommand = tagCommand('tag');
export const untagCommand = tagCommand('untag');
