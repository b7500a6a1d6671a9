import { defineConfig } from 'vitest/config';

// The console is built into the Go package that embeds it
// (opamp-server/console/dist/app), so `go build` of phoenix-server ships it.
export default defineConfig({
  base: '/',
  build: {
    outDir: '../opamp-server/console/dist/app',
    emptyOutDir: true,
    // No inline scripts: the server's Content-Security-Policy forbids them.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
