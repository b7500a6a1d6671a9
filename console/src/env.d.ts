// Vite bundles CSS imports.
declare module '*.css';
