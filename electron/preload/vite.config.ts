import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The sandboxed preload must be a single CommonJS file that requires nothing but 'electron'.
export default defineConfig({
  build: {
    lib: {
      entry: fileURLToPath(new URL('./preload.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    outDir: fileURLToPath(new URL('../../dist/electron/preload', import.meta.url)),
    emptyOutDir: true,
    rollupOptions: { external: ['electron'] },
    minify: false,
    sourcemap: false,
    target: 'node20',
  },
});
