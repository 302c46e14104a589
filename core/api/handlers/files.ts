import type { AreaHandlers, ApiContext } from '../context.js';
import { createUploads } from '../../uploads/uploads.js';

type FileMethods = 'files.upload.begin' | 'files.upload.chunk' | 'files.upload.finish' | 'files.upload.abort';

/** Handlers of local files handed to the app (contracts/files.ts): one set of uploads per api instance. */
export function filesHandlers(ctx: ApiContext): AreaHandlers<FileMethods> {
  const uploads = createUploads(ctx.paths);
  return {
    async 'files.upload.begin'(input) {
      return uploads.begin(input.name, input.size);
    },
    async 'files.upload.chunk'(input, call) {
      return uploads.chunk(input.upload, input.offset, input.data, call.signal);
    },
    async 'files.upload.finish'(input) {
      return uploads.finish(input.upload, input.sha256);
    },
    async 'files.upload.abort'(input) {
      await uploads.abort(input.upload);
      return {};
    },
  };
}
