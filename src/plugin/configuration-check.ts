/** Writes the start-up configuration check's findings to PocketBase's log and stdout. */
import { PLUGIN_NAME } from '../core/constants'
import type { ResolvedOptions } from '../core/options'
import { findConfigurationProblems } from '../core/startup-check'
import { pocketBaseApp } from './app'

export function logConfigurationProblems(options: ResolvedOptions): void {
  const app = pocketBaseApp()
  for (const problem of findConfigurationProblems(app, options)) {
    const message = `${PLUGIN_NAME}: ${problem.message}`
    if (problem.level === 'error') app.logger().error(message)
    else app.logger().warn(message)
    // Also on stdout: the app log table is easy to miss while setting up.
    console.log(`[${PLUGIN_NAME}] ${problem.level}: ${problem.message}`)
  }
}
