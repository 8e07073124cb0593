import type { EngramClient } from '../client.js';
import { isObject } from '../../core/json.js';
import { MalformedResponseError } from '../errors.js';
import type { Group } from '../types.js';

/** `{groups: [...]}` (`null` = none) of objects with a name; anything else is malformed and retried. */
function checkGroups(d: unknown, status: number): Group[] {
  const o = isObject(d) ? d : undefined;
  if (!o || !('groups' in o) || (o.groups !== null && !Array.isArray(o.groups))) {
    throw new MalformedResponseError('group list response has no "groups" list', status);
  }
  const groups = (o.groups ?? []) as unknown[];
  if (groups.some((g) => !g || typeof g !== 'object' || typeof (g as Group).name !== 'string')) {
    throw new MalformedResponseError('the response lists a group without a name', status);
  }
  return groups as Group[];
}

export class GroupsResource {
  constructor(private readonly client: EngramClient) {}

  async list(): Promise<Group[]> {
    const groups = await this.client.parsed('GET', '/groups', checkGroups, { idempotent: true });
    return groups.map((g) => ({
      ...g,
      topics: (g.topics ?? []).map((t) => ({
        ...t,
        scoping: { user_scoped: !!t.scoping?.user_scoped, scope_properties: t.scoping?.scope_properties ?? [] },
      })),
    }));
  }
}
