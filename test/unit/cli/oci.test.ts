import { describe, expect, it } from 'vitest';
import { splitFileArg } from '../../../cli/commands/oci.js';

describe('push FILE[:mediatype]', () => {
  it('splits a media type off the file argument', () => {
    expect(splitFileArg('a.wasm:application/wasm')).toEqual({ path: 'a.wasm', mediaType: 'application/wasm' });
    expect(splitFileArg('dir/b.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip')).toEqual({ path: 'dir/b.tar.gz', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
    expect(splitFileArg('plain.json')).toEqual({ path: 'plain.json' });
    expect(splitFileArg('C:\\x\\y.wasm')).toEqual({ path: 'C:\\x\\y.wasm' });
  });
});
