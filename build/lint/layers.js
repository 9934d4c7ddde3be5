/**
 * The layer rule (enforced in CI by `npm run lint`): every relative import — static, `export … from`, and dynamic
 * `import()` — is resolved against the importing file and checked against the layer table below. A dynamic import
 * must name its module with a string literal, so the rule can check it. Engine parts (core/*) never import
 * latency/, pipeline/, app/, electron/ or renderer/; the renderer imports only the API's browser-safe contract.
 */
import path from 'node:path';

const SHARED = 'core/*.ts';

/** Source folder → the folders it may import (`types:` = type-only imports). First match wins. */
export const LAYERS = [
  { from: 'core/arch/', may: ['core/arch/', SHARED] },
  { from: 'core/weights/', may: ['core/weights/', 'core/arch/', SHARED] },
  { from: 'core/tensor/', may: ['core/tensor/', SHARED] },
  { from: 'core/data/', may: ['core/data/', SHARED] },
  { from: 'core/store/', may: ['core/store/', SHARED] },
  { from: 'core/metrics/', may: ['core/metrics/', 'core/arch/', SHARED] },
  { from: 'core/export/', may: ['core/export/', 'core/arch/', 'core/weights/', 'core/tensor/', SHARED] },
  { from: 'core/search/', may: ['core/search/', 'core/arch/', 'core/metrics/', 'core/store/', SHARED] },
  // core/export: the sub-network scoring in ONNX Runtime (onnx-evaluator.ts); export never imports the super-network.
  { from: 'core/supernet/', may: ['core/supernet/', 'core/arch/', 'core/tensor/', 'core/data/', 'core/weights/', 'core/export/', 'types:core/search/', SHARED] },
  { from: SHARED, may: [SHARED] },
  { from: 'latency/', may: ['latency/', 'core/'] },
  { from: 'pipeline/', may: ['pipeline/', 'latency/', 'core/'] },
  { from: 'app/api/contract/', may: ['app/api/contract/', 'types:core/arch/', 'core/units.ts'] },
  { from: 'app/', may: ['app/', 'pipeline/', 'latency/', 'core/'] },
  { from: 'electron/', may: ['electron/', 'app/api/'] },
  { from: 'renderer/', may: ['renderer/', 'app/api/contract/'] },
  { from: 'bench/', may: ['bench/', 'pipeline/', 'latency/', 'core/', 'test/'] },
];

function inFolder(file, folder) {
  if (folder === SHARED) return /^core\/[^/]+$/.test(file);
  return file.startsWith(folder);
}

/** The rule for `file` (repo-relative, posix), or undefined when the file is not layered (tests, build scripts). */
export function layerOf(file) {
  return LAYERS.find((layer) => inFolder(file, layer.from));
}

/** Why importing `target` from `file` breaks the layers (undefined when it is allowed). */
export function layerViolation(file, target, typeOnly) {
  const layer = layerOf(file);
  if (!layer) return undefined;
  for (const entry of layer.may) {
    const typesOnly = entry.startsWith('types:');
    const folder = typesOnly ? entry.slice(6) : entry;
    if (inFolder(target, folder) && (!typesOnly || typeOnly)) return undefined;
  }
  const allowed = layer.may.map((m) => (m.startsWith('types:') ? `${m.slice(6)} (types only)` : m)).join(', ');
  return `${layer.from} may import only ${allowed}; not ${target}`;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the layer graph (build/lint/layers.js)' },
    schema: [],
    messages: {
      layer: 'layer violation: {{why}}',
      dynamic: 'dynamic import() must name its module with a string literal so the layer rule can check it',
    },
  },
  create(context) {
    const root = context.cwd;
    const file = path.relative(root, context.filename).split(path.sep).join('/');
    if (!layerOf(file)) return {};
    const check = (node, source, typeOnly) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), source));
      const why = layerViolation(file, target, typeOnly);
      if (why) context.report({ node, messageId: 'layer', data: { why } });
    };
    const allTypes = (node) =>
      node.importKind === 'type' || node.exportKind === 'type' ||
      (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));
    return {
      ImportDeclaration: (node) => check(node, node.source.value, allTypes(node)),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, allTypes(node)),
      ExportAllDeclaration: (node) => check(node, node.source.value, node.exportKind === 'type'),
      ImportExpression: (node) => {
        if (node.source.type === 'Literal') check(node, node.source.value, false);
        else if (node.source.type === 'TemplateLiteral' && node.source.expressions.length === 0) check(node, node.source.quasis[0].value.cooked, false);
        else context.report({ node, messageId: 'dynamic' });
      },
    };
  },
};

export default { rules: { imports: rule } };
