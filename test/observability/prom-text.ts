/** A small parser of the Prometheus text format, for tests: types by name, samples by name and labels. */
export interface Scrape {
  types: Map<string, string>;
  /** Value of `name{a="x",b="y"}` (labels sorted by name); undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  samples(name: string): { labels: Record<string, string>; value: number }[];
}

export function parseProm(text: string): Scrape {
  const types = new Map<string, string>();
  const all: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    all.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  const key = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());
  return {
    types,
    value: (name, labels = {}) => all.find((s) => s.name === name && key(s.labels) === key(labels))?.value,
    samples: (name) => all.filter((s) => s.name === name),
  };
}
