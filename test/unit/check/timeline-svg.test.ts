import t from 'tap'
import { drawPodTimeline } from '../../../src/check/timeline-svg.js'

t.test('one row per old Pod, its delay bar and a mark for each moment known', async t => {
  const svg = drawPodTimeline('deployment shop/web through <lb>', [
    { pod: 'web-a', deletedAt: 10_000, endpointNotReadyAt: 10_050, endpointRemovedAt: 19_000, lastAnswerAt: 15_200, sigtermAt: 18_000, exitedAt: 18_500, delayMs: 5200 },
    { pod: 'web-b', deletedAt: 12_000, lastAnswerAt: 11_000, delayMs: 0 },
    { pod: 'web-c', deletedAt: 13_000 }
  ])
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="960" height="\d+"/)
  t.match(svg, /deployment shop\/web through &lt;lb&gt;/, 'text is escaped')
  const row = (pod: string): string => svg.split(`<g class="pod" id="pod-${pod}">`)[1]!.split('</g>')[0]!
  t.match(row('web-a'), />web-a: 5\.20s</)
  for (const kind of ['deleted', 'endpoint-not-ready', 'endpoint-removed', 'last-answer', 'sigterm', 'exit']) t.match(row('web-a'), new RegExp(`<line class="${kind}"`), kind)
  t.match(row('web-a'), /<title>last-answer web-a at \+5\.20s<\/title>/)
  t.match(row('web-a'), /<rect class="delay" x="230" /, 'the first deletion is at the axis start')
  t.match(row('web-b'), /<rect class="delay" [^>]*width="1"/, 'an answer before the deletion: a sliver')
  t.match(row('web-c'), />web-c: no answer</)
  t.notMatch(row('web-c'), /class="delay"/)
  t.match(svg, />0s</)
  t.match(svg, /<\/svg>\n$/)
})

t.test('no Pod: an empty picture, still a valid document', async t => {
  const svg = drawPodTimeline('nothing', [])
  t.notMatch(svg, /class="pod"/)
  t.match(svg, /<\/svg>\n$/)
  t.notMatch(svg, /NaN|Infinity/)
})

t.test('a long timeline (an NLB\'s minutes) gets 2-minute ticks', async t => {
  const svg = drawPodTimeline('slow', [{ pod: 'web-a', deletedAt: 0, lastAnswerAt: 900_000, delayMs: 900_000 }])
  t.match(svg, />120s</)
  t.notMatch(svg, />60s</)
})
