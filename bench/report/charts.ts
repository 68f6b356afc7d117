/**
 * Renders Vega-Lite specs to SVG headlessly with the `vega` and `vega-lite` packages (no browser, no
 * canvas: Vega's SVG renderer estimates text widths). Both packages are ESM-only, so they are loaded
 * with a real dynamic `import()` from this CommonJS code.
 */

interface VegaLite {
  compile(spec: object): { spec: object };
}
interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}
interface Vega {
  parse(spec: object): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => VegaView;
}

// Through a variable, so neither TypeScript (CommonJS output) nor tsx rewrites it into require().
const importEsm = (specifier: string): Promise<unknown> => import(specifier);

let modules: Promise<{ vega: Vega; vl: VegaLite }> | undefined;

function load(): Promise<{ vega: Vega; vl: VegaLite }> {
  modules ??= Promise.all([importEsm('vega'), importEsm('vega-lite')]).then(([vega, vl]) => ({
    vega: vega as Vega,
    vl: vl as VegaLite,
  }));
  return modules;
}

/**
 * Compiles a Vega-Lite v6 spec (with inline data) and renders it to an SVG document.
 * @throws Error (rejects) when the spec is invalid.
 */
export async function renderSvg(spec: object): Promise<string> {
  const { vega, vl } = await load();
  const compiled = vl.compile({ config: { font: 'Helvetica, Arial, sans-serif', background: 'white', legend: { labelLimit: 0 } }, ...spec }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
