async function main() {
  const vega: any = await import('vega');
  const vl: any = await import('vega-lite');
  const spec = vl.compile({ data: { values: [{ a: 'x', b: 1 }, { a: 'y', b: 3 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } } as any).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  console.log(svg.length, svg.slice(0, 200));
}
main();
