import type { EngramClient } from '../client.js';
import type { Group } from '../types.js';

export class GroupsResource {
  constructor(private readonly client: EngramClient) {}

  async list(): Promise<Group[]> {
    const res = await this.client.request<{ groups?: Group[] | null }>('GET', '/groups', { idempotent: true });
    return (res.data?.groups ?? []).map((g) => ({
      ...g,
      topics: (g.topics ?? []).map((t) => ({
        ...t,
        scoping: { user_scoped: !!t.scoping?.user_scoped, scope_properties: t.scoping?.scope_properties ?? [] },
      })),
    }));
  }
}
