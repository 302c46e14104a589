import { api } from './api.js';
import { Task } from './task.svelte.js';
import type { SourceArtifact, SourcesList } from '../../../core/api/contract.js';
import { groupByPlatform, type Offered } from './source-groups.js';

export { groupByPlatform, type Offered, type PlatformGroup } from './source-groups.js';

/** The app's sources (sources.list), loaded once per window and reloaded after a pull or an import. */
export class Sources {
  readonly task = new Task<SourcesList>(null, { keep: true });
  #loaded = false;

  get value(): SourcesList | undefined {
    return this.task.value;
  }

  load(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    void this.refresh();
  }

  refresh(): Promise<SourcesList | undefined> {
    this.#loaded = true;
    return this.task.run((o) => api.call('sources.list', {}, o));
  }

  /** The demo kit's artifact of a repository ending in `suffix` (e.g. `bundles/vita`). */
  demo(suffix: string): SourceArtifact | undefined {
    return this.value?.sources.find((s) => s.kind === 'demo')?.artifacts.find((a) => a.repository.endsWith(suffix));
  }

  /** What the app knows of a reference: its platform and whether it resolves offline. */
  find(reference: string): Offered | undefined {
    return groupByPlatform(this.value)
      .flatMap((g) => g.items)
      .find((a) => a.reference === reference);
  }
}

export const sources = new Sources();
