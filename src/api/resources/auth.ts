import type { EngramClient } from '../client.js';

export class AuthResource {
  constructor(private readonly client: EngramClient) {}

  /** 204 when the key is valid; AuthenticationError (401) otherwise. */
  async verify(): Promise<void> {
    await this.client.request<void>('GET', '/auth/verify', { idempotent: true, noContent: true });
  }
}
