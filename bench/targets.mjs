// @ts-check
// The benchmark's targets (issues 11 and 19), computed from the results of bench/scenarios.mjs's
// scenarios: each a ratio measured side by side in one run, or a figure reported with its bound.

/**
 * @typedef {{ rate: number | null, pbCpuMsPerOp: number | null, p99Ms: number | null }} Figures
 * @typedef {{
 *   scenarios: Record<string, Figures>,
 *   cleanup: { hoursToClear: number | null, pageP99Ratio: number | null, signInP99Ratio: number | null, deletionRate: number | null } | null,
 *   coldVm: { msPerVm: number | null, anonymousBundleMs: number | null } | null,
 *   pageMicroUs?: Record<string, number> | null, bundleKb?: number | null,
 * }} TargetInput
 * @typedef {{
 *   id: string, figure: string, unit: string, min?: number, max?: number,
 *   ratio?: [string, string], value?: (r: TargetInput) => number | null | undefined,
 * }} Target `ratio`: rate of the first result key over the second's (keys are scenario@server).
 */

/** Issues 11 and 19's targets, in the order the report lists them; a figure without min/max is reported only. */
/** @type {Target[]} */
export const TARGETS = [
  {
    id: 'signin_vs_by_hand',
    figure: "Guest sign-in through /login ÷ the same app's page doing PocketBase's part by hand",
    unit: '×',
    ratio: ['signin@site', 'signin_by_hand@site'],
    min: 0.85,
  },
  {
    id: 'signin_vs_insert',
    figure: 'Guest sign-in through /login ÷ the bare guest insert (no page; issue 11)',
    unit: '×',
    ratio: ['signin@site', 'guest_insert@site'],
    min: 0.8,
  },
  {
    id: 'session_read',
    figure: 'Identical page signed in ÷ signed out (the session read)',
    unit: '×',
    ratio: ['session_in@site', 'session_out@site'],
    min: 0.9,
  },
  {
    id: 'session_read_anonymous_first',
    figure: '… again, in the order phase: this plugin listed first (demo)',
    unit: '×',
    ratio: ['session_in@anonymous_first', 'session_out@anonymous_first'],
    min: 0.9,
  },
  {
    id: 'session_read_auth_first',
    figure: '… in the order phase: the auth plugin listed first',
    unit: '×',
    ratio: ['session_in@auth_first', 'session_out@auth_first'],
    min: 0.9,
  },
  {
    id: 'page_cpu',
    figure: "The plugin's CPU on a signed-in page view (one JS VM, no load)",
    unit: 'ms',
    value: (r) => micro(r, 'anonymousSignedIn', 'emptyView'),
    max: 0.2,
  },
  {
    id: 'page_cpu_signed_out',
    figure: "The plugin's CPU on a signed-out page view (one JS VM, no load)",
    unit: 'ms',
    value: (r) => micro(r, 'anonymousSignedOut', 'emptyViewSignedOut'),
  },
  {
    id: 'read_vs_auth_plugin',
    figure: "The plugin's session read ÷ the auth plugin's own (CPU, signed in minus signed out)",
    unit: '×',
    value: (r) => {
      const ours = micro(r, 'anonymousSignedIn', 'anonymousSignedOut')
      const theirs = micro(r, 'authPluginSignedIn', 'authPluginSignedOut')
      return ours !== null && theirs ? ours / theirs : null
    },
    max: 1,
  },
  {
    id: 'home_page',
    figure: 'Home page as a guest ÷ signed out (renders more)',
    unit: '×',
    ratio: ['home_in@site', 'home_out@site'],
  },
  {
    id: 'signin_vs_upstream',
    figure: 'Guest sign-in ÷ the upstream REST path (2 × bcrypt)',
    unit: '×',
    ratio: ['signin@site', 'upstream@site'],
    min: 50,
  },
  {
    id: 'guests_signin',
    figure: 'Sign-in with 300,000 guests ÷ with none',
    unit: '×',
    ratio: ['signin@guests', 'signin@empty'],
    min: 0.85,
  },
  {
    id: 'guests_page',
    figure: 'Home page (guest) with 300,000 guests ÷ with none',
    unit: '×',
    ratio: ['home_in@guests', 'home_in@empty'],
    min: 0.85,
  },
  {
    id: 'window_network',
    figure: "Sign-in, its network's window holding 10,000 ÷ 30",
    unit: '×',
    ratio: ['signin_one_network@window10k', 'signin_one_network@window30'],
    min: 0.95,
  },
  {
    id: 'window_global',
    figure: 'Sign-in, global cap on, window holding 10,000 ÷ 30',
    unit: '×',
    ratio: ['signin@window10k', 'signin@window30'],
    min: 0.95,
  },
  {
    id: 'cleanup_hours',
    figure: 'Hourly cleanup runs: hours until 100,000 stale guests are gone',
    unit: 'h',
    value: (r) => r.cleanup?.hoursToClear,
    max: 24,
  },
  {
    id: 'cleanup_rate',
    figure: 'Cleanup deletion rate, under light load',
    unit: 'guests/s',
    value: (r) => r.cleanup?.deletionRate,
  },
  {
    id: 'cleanup_page_p99',
    figure: 'Home page p99 during a cleanup run ÷ idle',
    unit: '×',
    value: (r) => r.cleanup?.pageP99Ratio,
    max: 3,
  },
  {
    id: 'cleanup_signin_p99',
    figure: 'Sign-in (an insert) p99 during a cleanup run ÷ idle',
    unit: '×',
    value: (r) => r.cleanup?.signInP99Ratio,
    max: 3,
  },
  {
    id: 'cold_vm',
    figure: 'PocketBase CPU per throw-away JS VM (PocketPages, both plugins, the page)',
    unit: 'ms',
    value: (r) => r.coldVm?.msPerVm,
  },
  {
    id: 'cold_vm_plugin',
    figure: "… of which loading this plugin's bundle (CPU, one JS VM)",
    unit: 'ms',
    value: (r) => r.coldVm?.anonymousBundleMs,
  },
  {
    id: 'bundle_size',
    figure: "The plugin's bundle (pb_hooks/lib/pocketpages-plugin-anonymous.js)",
    unit: 'KB',
    value: (r) => r.bundleKb,
  },
]

/**
 * The difference of two page-view micro-timings (bench/page-micro.mjs), in ms; null when absent.
 * @param {TargetInput} r @param {string} a @param {string} b
 */
function micro(r, a, b) {
  const x = r.pageMicroUs?.[a]
  const y = r.pageMicroUs?.[b]
  return x === undefined || y === undefined ? null : Math.max(0, x - y) / 1000
}

/**
 * Each target's measured value, whether it is met, and (for rate ratios) the same ratio from
 * PocketBase's CPU time per operation, which the load generator's share of the CPUs does not bias.
 * @param {TargetInput} input
 */
export function evaluateTargets(input) {
  return TARGETS.map((t) => {
    let value = null
    let byCpu = null
    if (t.ratio) {
      const [a, b] = t.ratio.map((key) => input.scenarios[key])
      value = a?.rate && b?.rate ? a.rate / b.rate : null
      byCpu = a?.pbCpuMsPerOp && b?.pbCpuMsPerOp ? b.pbCpuMsPerOp / a.pbCpuMsPerOp : null
    } else if (t.value) {
      value = t.value(input) ?? null
    }
    const bound = t.min !== undefined ? `≥ ${t.min}` : t.max !== undefined ? `≤ ${t.max}` : null
    const met =
      value === null || bound === null ? null : t.min !== undefined ? value >= t.min : value <= (t.max ?? Infinity)
    return { id: t.id, figure: t.figure, unit: t.unit, value, byCpu, target: bound, met }
  })
}
