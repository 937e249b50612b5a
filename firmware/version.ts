// The version comes from the VERSION file at the root, injected by the
// bundler (build/bundle.mjs and build/test.mjs define __VERSION__).

declare const __VERSION__: string;

export const VERSION: string = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';
