/**
 * Contract entries of local files handed to the app (core/uploads): a browser page sends a file's bytes in
 * chunks (each a WebSocket message under its 4 MiB cap) and gets back the path check, deploy and the kit
 * methods take. Browser-safe: zod and the module's schema only.
 */
import { z } from 'zod';
import {
  UploadBeginInputSchema,
  UploadBeginSchema,
  UploadChunkInputSchema,
  UploadChunkSchema,
  UploadFinishInputSchema,
  UploadIdSchema,
  UploadedFileSchema,
} from '../../uploads/schema.js';

export const filesContract = {
  'files.upload.begin': {
    summary: 'Start handing a local file (a .wasm, a bundle, a kit) to the app: its name and size; answers the upload id and chunk size.',
    input: UploadBeginInputSchema,
    output: UploadBeginSchema,
  },
  'files.upload.chunk': {
    summary: 'The next bytes of an upload (base64, in order, at most chunkBytes each). A cancelled chunk gives the whole upload up.',
    input: UploadChunkInputSchema,
    output: UploadChunkSchema,
  },
  'files.upload.finish': {
    summary: 'End an upload: the size and the sha256 the caller computed are checked, then the file is kept and its path returned.',
    input: UploadFinishInputSchema,
    output: UploadedFileSchema,
  },
  'files.upload.abort': {
    summary: 'Give up an upload under way (after the chunk being written, if any); its bytes are removed.',
    input: z.object({ upload: UploadIdSchema }).strict(),
    output: z.object({}).strict(),
  },
} as const;
