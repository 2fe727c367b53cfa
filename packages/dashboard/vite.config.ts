import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// Built files go to dist/ with hashed names under assets/; the server serves them at `/`
// (assets immutable, index.html no-cache). No CDN: everything is bundled.
export default defineConfig({
  plugins: [preact()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
});
