/**
 * The start-up configuration check: the same problems sign-in would hit, found once when
 * PocketBase starts and written to its log, so a misconfiguration shows up before a user does.
 */
import { requireGuestCollection, unfillableRequiredFields } from './collection'
import { COUNTERS_TABLE, MERGES_TABLE } from './constants'
import type { ResolvedOptions } from './options'
import { type Backend, type CollectionInfo, fieldSettings } from './ports'

export interface ConfigurationProblem {
  level: 'error' | 'warn'
  message: string
}

export function findConfigurationProblems(backend: Backend, options: ResolvedOptions): ConfigurationProblem[] {
  const problems: ConfigurationProblem[] = []
  for (const name of options.collections) {
    try {
      const collection = requireGuestCollection(backend, name, options)
      const unfillable = unfillableRequiredFields(backend, collection, options)
      if (unfillable.length > 0) {
        problems.push({
          level: 'warn',
          message: `Collection '${name}' has required field(s) ${unfillable.map((f) => `'${f}'`).join(', ')} with no value for guests; guest sign-in fails unless a hook fills them. Make them optional or give them an autogenerate pattern.`,
        })
      }
      const domainProblem = emailDomainProblem(collection, options.emailDomain)
      if (domainProblem) problems.push({ level: 'error', message: domainProblem })
      if (!collection.passwordAuth.enabled) {
        problems.push({
          level: 'warn',
          message: `Collection '${name}' has password auth disabled: upgraded guests cannot sign in with their new password. Enable it in the collection's auth options.`,
        })
      }
    } catch (error) {
      problems.push({ level: 'error', message: error instanceof Error ? error.message : String(error) })
    }
  }
  if (!backend.countersReady()) {
    problems.push({
      level: 'error',
      message: `Table '${COUNTERS_TABLE}' is missing, so guest sign-in cannot count sign-ins for its rate limits. Copy the plugin's migrations into pb_migrations/ and restart PocketBase.`,
    })
  }
  if (!backend.merges.ready()) {
    problems.push({
      level: 'warn',
      message: `Table '${MERGES_TABLE}' is missing, so a merge runs in one transaction: a guest with many records stalls the site's other writes while it moves. Copy the plugin's migrations into pb_migrations/ and restart PocketBase.`,
    })
  }
  return problems
}

/** The email field's domain lists must let `anonymous-…@<emailDomain>` through. */
function emailDomainProblem(collection: CollectionInfo, domain: string): string | null {
  const field = collection.fields.getByName('email')
  if (!field) return null
  const settings = fieldSettings(field)
  const only = lowerCased(settings.onlyDomains)
  const except = lowerCased(settings.exceptDomains)
  const fix = `Allow '${domain}' in the email field's domain lists, or set the plugin option 'emailDomain' to an allowed domain.`
  if (only.length > 0 && !only.includes(domain)) {
    return `Collection '${collection.name}' only accepts emails at ${only.join(', ')}, so guest emails at '${domain}' are rejected. ${fix}`
  }
  if (except.includes(domain)) {
    return `Collection '${collection.name}' rejects emails at '${domain}', the guest email domain. ${fix}`
  }
  return null
}

/** A domain list as lower-case JS strings (PocketBase hands over a Go slice, or nothing when unset). */
function lowerCased(domains: ArrayLike<unknown> | undefined): string[] {
  return Array.from(domains ?? [], (d) => String(d).toLowerCase())
}
