import t from 'tap'
import type { TimelineBucket } from '../../../src/load/report.js'
import { drawColumns, drawTimeline, type TimelineRun } from '../../../demo/timeline-svg.js'

const bucket = (t: number, requests: number, failed: number): TimelineBucket => ({ t, requests, failed, statuses: {} })

const without: TimelineRun = {
  id: 'without', title: 'without lameduck <plain> & co', bucketMs: 100,
  timeline: [bucket(0, 20, 0), bucket(100, 20, 7), bucket(200, 20, 20), bucket(300, 0, 0)],
  events: [{ tMs: 150, kind: 'sigterm', pod: 'plain/web-1' }, { tMs: 320, kind: 'endpoint-removed', pod: 'plain/web-1' }]
}
const withLameduck: TimelineRun = {
  id: 'with', title: 'with lameduck', bucketMs: 100,
  timeline: [bucket(0, 10, 0), bucket(100, 10, 0)],
  events: [{ tMs: 1500, kind: 'sigkill', pod: 'shop/web-1' }]
}

const count = (svg: string, re: RegExp): number => svg.match(new RegExp(re, 'g'))?.length ?? 0

t.test('one panel per run, with its bars and marks', async t => {
  const svg = drawTimeline([without, withLameduck])
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.ok(svg.trimEnd().endsWith('</svg>'))
  const panels = svg.split('<g class="run"').slice(1)
  t.equal(panels.length, 2)
  t.match(panels[0], /^ id="run-without">/)
  t.match(panels[1], /^ id="run-with">/)
  t.equal(count(panels[0]!, /<rect class="ok"/), 2, 'no green bar where nothing succeeded')
  t.equal(count(panels[0]!, /<rect class="failed"/), 2, 'a red bar where something failed')
  t.equal(count(panels[1]!, /<rect class="failed"/), 0)
  t.equal(count(panels[1]!, /<rect class="ok"/), 2)
  t.match(panels[0], /<line class="sigterm"[^>]*><title>sigterm plain\/web-1 at 0\.15s<\/title>/)
  t.match(panels[0], /<line class="endpoint-removed"[^>]*stroke-dasharray/)
  t.match(panels[1], /<line class="sigkill"/)
  t.match(panels[0], /without lameduck &lt;plain&gt; &amp; co/, 'text is escaped')
})

t.test('bars share one scale: a full bucket reaches the top, a failed part sits on the green', async t => {
  const svg = drawTimeline([without])
  const rects = [...svg.matchAll(/<rect class="(ok|failed)" x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)].map(m => ({ kind: m[1], x: Number(m[2]), y: Number(m[3]), h: Number(m[4]) }))
  const full = rects[0]!
  const [ok, failed] = [rects[1]!, rects[2]!]
  t.equal(ok.x, failed.x, 'the second bucket stacks')
  t.equal(failed.y + failed.h, ok.y, 'failed on top of succeeded')
  t.equal(failed.y, full.y, 'both buckets are 20 requests high')
  t.equal(Math.round(ok.h / full.h * 20), 13)
  t.ok(rects.every(r => r.x >= 50 && r.x < 960))
})

t.test('the time axis covers the last event and picks round ticks', async t => {
  const long = drawTimeline([{ ...withLameduck, events: [{ tMs: 45_000, kind: 'sigkill', pod: 'x' }] }])
  t.match(long, />40s<\/text>/)
  t.notMatch(long, />1s<\/text>/, '5 s ticks for a 45 s run')
  t.match(drawTimeline([{ ...withLameduck, events: [{ tMs: 3_000_000, kind: 'sigkill', pod: 'x' }] }]), />120s</, 'very long: 2 min ticks')
  t.match(drawTimeline([]), /<svg [^>]*height="40"/, 'no runs: just the legend')
})

t.test('the picture is well-formed XML', async t => {
  // Balance of the element kinds that have children or text.
  const svg = drawTimeline([without, withLameduck])
  t.equal(count(svg, /<g /), count(svg, /<\/g>/))
  t.equal(count(svg, /<line [^>]*[^/]>/), count(svg, /<\/line>/), 'lines with a title are closed')
  t.equal(count(svg, /<text /), count(svg, /<\/text>/))
})

t.test('scenarios side by side: a column each under its title, each with its own axes; one scenario is the plain picture', async t => {
  t.equal(drawColumns([{ title: 'rollout', runs: [without, withLameduck] }]), drawTimeline([without, withLameduck]))
  const svg = drawColumns([{ title: 'rollout <1>', runs: [without, withLameduck] }, { title: 'scale-in', runs: [without] }])
  t.match(svg, /^<svg [^>]*width="1920" height="550"/, 'two columns wide, as tall as the taller column and the titles')
  t.match(svg, />rollout &lt;1&gt;<\/text>/)
  t.match(svg, /<text x="1010" y="22"[^>]*>scale-in<\/text>/)
  t.match(svg, /<svg class="column" x="0" y="30" width="960" height="520">/)
  t.match(svg, /<svg class="column" x="960" y="30" width="960" height="280">/)
  t.equal(count(svg, /<g class="run"/), 3)
  t.equal(count(svg, /<svg /), count(svg, /<\/svg>/))
  t.match(drawColumns([]), /width="0" height="30"/, 'no scenario: an empty picture')
})
