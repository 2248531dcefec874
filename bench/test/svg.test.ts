/**
 * The chart module: a well-formed SVG with title, axes, ticks, labels, legend and both colour
 * themes; escaped text; the same output for the same input; ticks on round numbers; refusals
 * for data a log axis cannot show.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeXml, logTicks, niceTicks, renderChart, type ChartSpec } from '../report/svg.ts';

const spec: ChartSpec = {
  title: 'Rounds <per> second & more',
  subtitle: 'median, whiskers min–max',
  x: { label: 'instances in flight', scale: 'log' },
  y: { label: 'rounds/s', scale: 'linear' },
  series: [
    {
      label: 'workers, 3 acceptors',
      points: [
        { x: 1, y: 1000, low: 900, high: 1100 },
        { x: 16, y: 12_000, low: 11_000, high: 13_000 },
        { x: 256, y: 40_000, low: 35_000, high: 41_000 },
      ],
    },
    {
      label: 'embedded',
      points: [
        { x: 1, y: 5000 },
        { x: 16, y: 50_000 },
        { x: 256, y: 150_000 },
      ],
    },
    {
      label: 'ideal',
      reference: true,
      points: [
        { x: 1, y: 1 },
        { x: 256, y: 1 },
      ],
    },
  ],
};

/** Checks that every element opened is closed in order (what an XML parser would insist on). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) assert.is(stack.pop(), name, `closing </${name}>`);
    else stack.push(name!);
  }
  assert.equal(stack, [], 'every element closed');
}

test('a chart is one balanced SVG document with its texts', () => {
  const svg = renderChart(spec);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assertBalanced(svg);
  for (const text of [
    'Rounds &lt;per&gt; second &amp; more',
    'median, whiskers min–max',
    'instances in flight',
    'rounds/s',
    'workers, 3 acceptors',
    'embedded',
    'ideal',
  ]) {
    assert.ok(svg.includes(`>${text}<`), `shows ${text}`);
  }
  assert.not.ok(svg.includes('<per>'), 'text is escaped');
});

test('ticks: the x values on a log axis, round numbers on the y axis', () => {
  const svg = renderChart(spec);
  for (const label of ['>1<', '>16<', '>256<', '>0<', '>25k<', '>50k<', '>100k<', '>150k<']) assert.ok(svg.includes(label), `tick ${label}`);
});

test('light and dark themes, and an accessible title and description', () => {
  const svg = renderChart(spec);
  assert.ok(svg.includes('@media (prefers-color-scheme: dark)'));
  assert.ok(svg.includes('class="bg"'), 'an opaque card, readable whatever the page behind it');
  assert.ok(svg.includes('role="img"'));
  assert.match(svg, /<desc id="desc">workers, 3 acceptors: 1 → 1k, 16 → 12k, 256 → 40k; /);
});

test('whiskers for the min–max spread (if it shows), none for points without one', () => {
  const svg = renderChart(spec);
  const whiskers = svg.match(/class="s0 whisker"/g) ?? [];
  assert.is(whiskers.length, 2, 'the spread of 900–1100 on an axis to 200k is under 2 px: not drawn');
  assert.not.ok(svg.includes('class="s1 whisker"'));
});

test('colour and shape keys: one colour per mode, one marker and dash per acceptor count', () => {
  const keyed: ChartSpec = {
    title: 'k',
    x: { label: 'x', scale: 'linear' },
    y: { label: 'y', scale: 'linear' },
    series: [
      {
        label: 'workers 3',
        colorKey: 'workers',
        shapeKey: '3',
        points: [
          { x: 1, y: 1 },
          { x: 2, y: 2 },
        ],
      },
      {
        label: 'workers 5',
        colorKey: 'workers',
        shapeKey: '5',
        points: [
          { x: 1, y: 2 },
          { x: 2, y: 3 },
        ],
      },
      {
        label: 'embedded 3',
        colorKey: 'embedded',
        shapeKey: '3',
        points: [
          { x: 1, y: 3 },
          { x: 2, y: 4 },
        ],
      },
    ],
  };
  const svg = renderChart(keyed);
  const lines = [...svg.matchAll(/<polyline class="(s\d) line"( stroke-dasharray="[^"]+")? /g)].map((m) => [m[1], m[2] ?? '']);
  assert.equal(lines, [
    ['s0', ''],
    ['s0', ' stroke-dasharray="7 4"'],
    ['s1', ''],
  ]);
  const markers = [...svg.matchAll(/<g class="s\d">(<\w+)/g)].map((m) => m[1]).slice(0, 3);
  assert.equal(markers, ['<circle', '<rect', '<circle'], 'acceptors 3 is a circle in both modes');
});

test('nine plain series never repeat a colour together with a marker', () => {
  const nine: ChartSpec = { ...spec, series: Array.from({ length: 9 }, (_, i) => ({ label: `s${i}`, points: [{ x: 1, y: i + 1 }] })) };
  const svg = renderChart(nine);
  const first = /<g class="s0">(<\w+)/.exec(svg)![1];
  const ninth = [...svg.matchAll(/<g class="s0">(<\w+)/g)][1]![1];
  assert.is.not(ninth, first, 'the ninth series has the first colour but another marker');
});

test('the same input gives the same output', () => {
  assert.is(renderChart(spec), renderChart(structuredClone(spec)));
});

test('category axis in the given order; log y axis', () => {
  const svg = renderChart({
    title: 'Latency',
    x: { label: 'percentile', scale: 'category', categories: ['p50', 'p90', 'p99', 'p99.9'] },
    y: { label: 'µs', scale: 'log' },
    series: [
      {
        label: 'commit',
        points: [
          { x: 'p99.9', y: 900 },
          { x: 'p50', y: 30 },
        ],
      },
    ],
  });
  assertBalanced(svg);
  const order = ['p50', 'p90', 'p99', 'p99.9'].map((p) => svg.indexOf(`>${p}<`));
  assert.equal(
    [...order].sort((a, b) => a - b),
    order,
    'categories left to right',
  );
  for (const t of ['>20<', '>100<', '>1k<']) assert.ok(svg.includes(t), `log tick ${t}`);
});

test('a value a log axis cannot show is refused, naming the chart and series', () => {
  assert.throws(
    () => renderChart({ ...spec, y: { label: 'x', scale: 'log' }, series: [{ label: 'zero', points: [{ x: 1, y: 0 }] }] }),
    /chart 'Rounds <per> second & more': series 'zero' has y 0 on a log axis/,
  );
  assert.throws(() => renderChart({ ...spec, series: [{ label: 's', points: [{ x: 0, y: 1 }] }] }), /has x 0 on a log axis/);
  assert.throws(
    () =>
      renderChart({
        title: 't',
        x: { label: 'p', scale: 'category', categories: ['p50'] },
        y: { label: 'y', scale: 'linear' },
        series: [{ label: 's', points: [{ x: 'p75', y: 1 }] }],
      }),
    /has x 'p75', not one of p50/,
  );
});

test('a long legend wraps into more rows and a taller chart', () => {
  const many: ChartSpec = {
    ...spec,
    series: Array.from({ length: 9 }, (_, i) => ({
      label: `a rather long series label number ${i}`,
      points: [
        { x: 1, y: i + 1 },
        { x: 4, y: i + 2 },
      ],
    })),
  };
  const h = (svg: string) => Number(/height="(\d+)"/.exec(svg)![1]);
  assert.ok(h(renderChart(many)) > h(renderChart(spec)));
  assertBalanced(renderChart(many));
});

test('niceTicks: round steps covering the range; logTicks: powers of ten around the data', () => {
  assert.equal(niceTicks(0, 41_000), [0, 10_000, 20_000, 30_000, 40_000, 50_000]);
  assert.equal(niceTicks(0, 1.9), [0, 0.5, 1, 1.5, 2]);
  assert.equal(niceTicks(0, 183_000), [0, 50_000, 100_000, 150_000, 200_000]);
  const t = niceTicks(0.8, 2.1);
  assert.ok(t[0]! <= 0.8 && t[t.length - 1]! >= 2.1 && t.length <= 7);
  assert.equal(logTicks(30, 900), [20, 50, 100, 200, 500, 1000]);
  assert.equal(logTicks(3, 40_000), [1, 10, 100, 1000, 10_000, 100_000]);
});

test('escapeXml', () => {
  assert.is(escapeXml('a<b>&"c"'), 'a&lt;b&gt;&amp;&quot;c&quot;');
});

test.run();
