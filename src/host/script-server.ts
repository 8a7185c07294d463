/** `<script server> code </script>` becomes `<% code %>`, as in PocketPages' EJS plugin. */
export const rewriteScriptServer = (template: string): string =>
  template.replace(/<script\s+server\s*>([\s\S]*?)<\/script>/g, (_match, code: string) => `<% ${code} %>`)
