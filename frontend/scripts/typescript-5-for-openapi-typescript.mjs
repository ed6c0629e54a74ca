// openapi-typescript (make codegen: src/lib/openapi.json → src/lib/api.generated.ts) prints its output with the
// TypeScript 5 compiler API (ts.factory, ts.createPrinter), which the UI's TypeScript 7 (the native compiler, no such
// JavaScript API) does not have. package.json installs TypeScript 5 beside it as the alias `typescript-5` (and
// overrides openapi-typescript's peer range, so npm keeps one tree); this hook, loaded with `node --import`, hands
// openapi-typescript that copy. Nothing else sees it: the build and the tests use TypeScript 7.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/openapi-typescript/'))
    return next('typescript-5', context);
  return next(specifier, context);
}`), import.meta.url);
