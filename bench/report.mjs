// @ts-check
// Writes a run's results: results.json (everything), results.md (the tables), chart.png (or
// chart.svg without Chromium), the table block of docs/performance.md when writing to bench/, and
// the tables on stdout. Captions only: the analysis is written by a person, in docs/performance.md.

import fs from 'node:fs'
import path from 'node:path'
import { repoRoot } from '../scripts/pocketbase.mjs'

/** The page that shows the results, and the markers of its block that a run rewrites. */
const RESULTS_PAGE = 'docs/performance.md'
const BLOCK_BEGIN = '<!-- bench:begin (written by npm run bench) -->'
const BLOCK_END = '<!-- bench:end -->'

/** @param {number | null | undefined} v */
export function fmtRate(v) {
  if (v === null || v === undefined) return '–'
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)
}
/** @param {number | null | undefined} v */
function fmtMs(v) {
  if (v === null || v === undefined) return '–'
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ms`
}
/** @param {number | null | undefined} v @param {string} unit */
function fmtValue(v, unit) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  if (unit === '×') return v >= 10 ? `${v.toFixed(0)}×` : `${v.toFixed(2)}×`
  if (unit === 'h') return `${v.toFixed(1)} h`
  if (unit === 'ms') return fmtMs(v)
  return `${fmtRate(v)} ${unit}`
}
/** @param {string | null} target @param {string} unit */
function fmtTarget(target, unit) {
  return target === null ? 'reported' : `${target}${unit === '×' ? '×' : ` ${unit}`}`
}
/** @param {boolean | null} met */
const mark = (met) => (met === null ? '' : met ? '✅' : '❌')

/** @param {any} report */
function caption(report) {
  const m = report.machine
  const s = report.settings
  const smoke =
    report.kind === 'smoke'
      ? `**Smoke run** (${s.seconds} s per scenario, data fills at ${s.fillScale}×): not for conclusions · `
      : ''
  return (
    `${smoke}PocketBase ${m.pocketbase} · ${m.nproc} CPUs (${m.cpuModel}) shared with the load generator · ` +
    `${s.concurrency} connections · ${s.rounds} round(s) × ${s.seconds} s per scenario and server, order reversed each round · ` +
    `load average ${m.loadAverageAtStart[0]} at the start, ${m.loadAverageAtEnd[0]} at the end · ${report.generatedAt.slice(0, 10)}`
  )
}

/** @param {any} report @returns {string[][]} */
function targetRows(report) {
  return report.targets.map((/** @type {any} */ t) => [
    t.figure,
    `**${fmtValue(t.value, t.unit)}** ${mark(t.met)}`.trim(),
    fmtTarget(t.target, t.unit),
    t.byCpu === null ? '' : fmtValue(t.byCpu, '×'),
  ])
}

/** @param {any} report @param {boolean} diagnostics */
function resultRows(report, diagnostics) {
  return Object.entries(report.results)
    .filter(([, r]) => !!(/** @type {any} */ (r).diagnostic) === diagnostics)
    .map(([/** @type {any} */ , r]) => {
      const s = report.scenarios[r.scenario]
      const server = report.servers.find((/** @type {any} */ x) => x.id === r.server)
      return [
        s.title,
        server?.title ?? r.server,
        `**${fmtRate(r.rate)}** ${s.unit}`,
        fmtMs(r.p50Ms),
        fmtMs(r.p99Ms),
        r.pbCpuMsPerOp === null ? '–' : fmtMs(r.pbCpuMsPerOp),
        String(r.failed),
      ]
    })
}

/** Display width as Markdown formatters count it: the check marks take two columns. @param {string} s */
const width = (s) => s.length + (s.match(/[\u2705\u274C]/g)?.length ?? 0)
/** @param {string} s @param {number} w @param {boolean} right */
const pad = (s, w, right) =>
  right ? ' '.repeat(Math.max(0, w - width(s))) + s : s + ' '.repeat(Math.max(0, w - width(s)))

/** @param {string[]} head @param {string[][]} rows @param {string} align */
function mdTable(head, rows, align) {
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? '')), 3))
  const line = (/** @type {string[]} */ cells) =>
    `| ${cells.map((c, i) => pad(c, widths[i] ?? 0, align[i] === 'r')).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`
  return [line(head), rule, ...rows.map(line)].join('\n')
}

const TARGET_HEAD = ['Figure', 'Measured', 'Target', 'Same ratio by CPU per op']
const RESULT_HEAD = ['Scenario', 'Server', 'Rate', 'p50', 'p99', 'PocketBase CPU per op', 'Errors']

/** @param {any} report */
function cleanupCaption(report) {
  const c = report.cleanup
  if (!c) return ''
  const during = c.during
  return (
    `Cleanup: ${c.backlog.toLocaleString('en-US')} stale guests; one run (default settings) deleted ${c.deletedInRun.toLocaleString('en-US')} in ${c.runSeconds} s ` +
    `(${fmtRate(c.deletionRate)} guests/s), ${c.runsNeeded} hourly run(s) needed. Paced load ${c.load.pagePerSecond} pages/s + ${c.load.signInPerSecond} sign-ins/s: ` +
    `page p99 ${fmtMs(c.idle.page?.p99Ms)} idle, ${fmtMs(during.page?.p99Ms)} during; sign-in p99 ${fmtMs(c.idle.signin?.p99Ms)} idle, ${fmtMs(during.signin?.p99Ms)} during.`
  )
}

/** @param {any} report @param {string} chartFile */
function markdown(report, chartFile) {
  return [
    '<!-- Written by bench/report.mjs (npm run bench); re-run the benchmark rather than editing. -->',
    '',
    caption(report),
    '',
    'Targets (issue 11), each measured side by side in this run:',
    '',
    mdTable(TARGET_HEAD, targetRows(report), 'lrrr'),
    '',
    `![Measured against targets, and rates side by side](${chartFile})`,
    '',
    'Scenarios:',
    '',
    mdTable(RESULT_HEAD, resultRows(report, false), 'llrrrrr'),
    '',
    'Diagnostics (they split the costs behind the targets):',
    '',
    mdTable(RESULT_HEAD, resultRows(report, true), 'llrrrrr'),
    '',
    cleanupCaption(report),
    '',
    report.microTimingsUs
      ? `Micro-timings in one JS VM without load, µs per call: ${Object.entries(report.microTimingsUs)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}.`
      : '',
    '',
    `All figures: [results.json](results.json) (${report.totalSeconds} s in total).`,
    '',
  ].join('\n')
}

/** @param {string} s */
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Two panels: each bounded target as measured ÷ target (≥ 1 met), then rates side by side. @param {any} report */
function chartSvg(report) {
  const width = 900
  const left = 440
  const barMax = width - left - 150
  const rowH = 24
  const targets = report.targets.filter((/** @type {any} */ t) => t.target !== null && t.value !== null)
  const rates = Object.entries(report.results).filter(([, r]) => !(/** @type {any} */ (r).diagnostic))
  const top1 = 96
  const top2 = top1 + targets.length * rowH + 60
  const height = top2 + rates.length * rowH + 20
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Liberation Sans, DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...captionLines(caption(report).replace(/\*\*/g, ''), 140).map(
      (line, i) => `<text x="12" y="${16 + i * 15}" font-size="11" fill="#555">${esc(line)}</text>`,
    ),
    `<text x="12" y="${top1 - 14}" font-size="15" font-weight="bold" fill="#222">Measured ÷ target (1 or more: met)</text>`,
  ]
  const domain = 2
  const x1 = left + barMax / domain
  parts.push(
    `<line x1="${x1}" y1="${top1}" x2="${x1}" y2="${top1 + targets.length * rowH}" stroke="#222" stroke-dasharray="3,3"/>`,
  )
  targets.forEach((/** @type {any} */ t, /** @type {number} */ i) => {
    const bound = Number(String(t.target).replace(/[^\d.]/g, ''))
    const score = String(t.target).startsWith('≥') ? t.value / bound : bound / t.value
    const w = Math.max(2, (Math.min(score, domain) / domain) * barMax)
    const y = top1 + i * rowH
    parts.push(
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end" fill="#222">${esc(t.figure)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${t.met ? '#2a9d8f' : '#d9534f'}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 15}" fill="#222">${esc(`${fmtValue(t.value, t.unit)} (target ${fmtTarget(t.target, t.unit)})`)}</text>`,
    )
  })
  parts.push(
    `<text x="12" y="${top2 - 14}" font-size="15" font-weight="bold" fill="#222">Rate per scenario and server (higher is better)</text>`,
  )
  const maxRate = Math.max(1, ...rates.map(([, r]) => /** @type {any} */ (r).rate ?? 0))
  rates.forEach(([/** @type {any} */ , r], i) => {
    const s = report.scenarios[r.scenario]
    const server = report.servers.find((/** @type {any} */ x) => x.id === r.server)
    const w = Math.max(2, ((r.rate ?? 0) / maxRate) * barMax)
    const y = top2 + i * rowH
    parts.push(
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end" fill="#222">${esc(`${s.title} · ${server?.title ?? r.server}`)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="#2f6fdf"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 15}" fill="#222">${esc(`${fmtRate(r.rate)} ${s.unit}`)}</text>`,
    )
  })
  parts.push('</svg>')
  return parts.join('\n')
}

/** Splits a caption at its ' · ' separators into lines of at most `width` characters. @param {string} text @param {number} width */
function captionLines(text, width) {
  /** @type {string[]} */
  const lines = []
  for (const part of text.split(' · ')) {
    const last = lines[lines.length - 1]
    if (last !== undefined && last.length + part.length + 3 <= width) lines[lines.length - 1] = `${last} · ${part}`
    else lines.push(part)
  }
  return lines
}

/** Renders the SVG to PNG with headless Chromium; keeps the SVG when that fails. @param {string} svg @param {string} dir */
async function writeChart(svg, dir) {
  const pngPath = path.join(dir, 'chart.png')
  const svgPath = path.join(dir, 'chart.svg')
  try {
    if (!fs.existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium not found')
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    })
    try {
      const m = /width="(\d+)" height="(\d+)"/.exec(svg)
      const width = Number(m?.[1] ?? 900)
      const height = Number(m?.[2] ?? 400)
      const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 })
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`)
      await page.screenshot({ path: pngPath, clip: { x: 0, y: 0, width, height } })
    } finally {
      await browser.close()
    }
    fs.rmSync(svgPath, { force: true })
    return 'chart.png'
  } catch (err) {
    process.stderr.write(`[bench] Chromium rendering failed (${String(err).split('\n')[0]}); kept the SVG\n`)
    fs.writeFileSync(svgPath, svg)
    return 'chart.svg'
  }
}

/** @param {string[]} head @param {string[][]} rows */
function textTable(head, rows) {
  const plain = (/** @type {string} */ s) => s.replace(/\*\*/g, '')
  const all = [head, ...rows].map((r) => r.map(plain))
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return all
    .map((r, k) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')
      return k === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line
    })
    .join('\n')
}

/** @param {any} report @param {string} outDir */
export async function writeReport(report, outDir) {
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`)
  const chartFile = await writeChart(chartSvg(report), outDir)
  fs.writeFileSync(path.join(outDir, 'results.md'), markdown(report, chartFile))
  const toRepo = path.resolve(outDir) === path.join(repoRoot, 'bench')
  if (toRepo) updateResultsPage(report, chartFile)

  process.stdout.write(
    [
      '',
      caption(report).replace(/\*\*/g, ''),
      '',
      textTable(RESULT_HEAD, [...resultRows(report, false), ...resultRows(report, true)]),
      '',
      textTable(
        TARGET_HEAD,
        targetRows(report).map((r) => r.map((c) => c.replace('✅', 'met').replace('❌', 'MISSED'))),
      ),
      '',
      cleanupCaption(report),
      report.microTimingsUs ? `Micro-timings (µs per call): ${JSON.stringify(report.microTimingsUs)}` : '',
      `Wrote ${outDir}/results.json, results.md, ${chartFile}${toRepo ? ` and the block in ${RESULTS_PAGE}` : ''} (${report.totalSeconds} s)`,
      '',
    ].join('\n'),
  )
}

/** Replaces the results page's block between the bench markers: caption, targets, scenarios, chart. @param {any} report @param {string} chartFile */
function updateResultsPage(report, chartFile) {
  const file = path.join(repoRoot, RESULTS_PAGE)
  const text = fs.readFileSync(file, 'utf8')
  const begin = text.indexOf(BLOCK_BEGIN)
  const end = text.indexOf(BLOCK_END)
  if (begin < 0 || end < begin) {
    process.stderr.write(`[bench] ${RESULTS_PAGE} has no bench markers; its table was not updated\n`)
    return
  }
  const block = [
    BLOCK_BEGIN,
    '',
    caption(report),
    '',
    mdTable(TARGET_HEAD, targetRows(report), 'lrrr'),
    '',
    mdTable(RESULT_HEAD, resultRows(report, false), 'llrrrrr'),
    '',
    // The page is in docs/, the chart in bench/.
    `![Measured against targets, and rates side by side](../bench/${chartFile})`,
    '',
  ].join('\n')
  fs.writeFileSync(file, text.slice(0, begin) + block + text.slice(end))
}
