/* kh-cli-visible.c: text the command-line programs did not write, made visible and harmless
 *
 * The CLI prints what a server sent (an error, a refusal's reason, a record's updated_by),
 * what a database holds and what a file said. A terminal acts on escape sequences (ESC, CSI,
 * OSC: colours, a new window title, a cleared screen, in some terminals a written file or a
 * fake prompt), a carriage return overwrites what was printed, and a bidirectional override
 * reorders what the reader sees. So every g_print() and g_printerr() goes through one filter
 * that shows such characters as escapes, and values printed inside a line are shown on one
 * line. The escapes are JSON's own ("\u001b"), so --json output stays valid JSON.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-cli-visible.h"

#include <stdio.h>
#include <string.h>

static gboolean
must_escape (gunichar          c,
             KhCliVisibleFlags flags)
{
  if (c == '\n' || c == '\t')
    return (flags & KH_CLI_VISIBLE_ONE_LINE) != 0;
  return c < 0x20 || (c >= 0x7f && c <= 0x9f)
         || (c >= 0x202a && c <= 0x202e)    /* embeddings and overrides */
         || (c >= 0x2066 && c <= 0x2069)    /* isolates */
         || c == 0x2028 || c == 0x2029;     /* line and paragraph separators */
}

char *
kh_cli_visible (const char        *text,
                KhCliVisibleFlags  flags)
{
  GString *out;
  const char *p;
  const char *end;

  if (text == NULL)
    return NULL;
  end = text + strlen (text);
  /* The usual case, plain text, is copied without being rebuilt. */
  for (p = text; p < end; p++)
    if ((guchar) *p < 0x20 || (guchar) *p >= 0x7f)
      break;
  if (p == end)
    return g_strdup (text);

  out = g_string_sized_new ((gsize) (end - text) + 16);
  for (p = text; p < end;)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append (out, "\xef\xbf\xbd");  /* U+FFFD, for one byte that is not UTF-8 */
          p++;
          continue;
        }
      if (!must_escape (c, flags))
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else
        g_string_append_printf (out, "\\u%04x", c);
      p = g_utf8_next_char (p);
    }
  return g_string_free (out, FALSE);
}

/* As GLib's own handlers: in the console's character set, flushed at once. */
static void
print_visible (FILE       *stream,
               const char *text)
{
  g_autofree char *shown = kh_cli_visible (text, KH_CLI_VISIBLE_LAYOUT);
  const char *charset;

  if (g_get_console_charset (&charset))
    fputs (shown, stream);
  else
    {
      g_autofree char *converted = g_convert_with_fallback (shown, -1, charset, "UTF-8", "?",
                                                            NULL, NULL, NULL);

      fputs (converted != NULL ? converted : shown, stream);
    }
  fflush (stream);
}

static void
print_out (const char *text)
{
  print_visible (stdout, text);
}

static void
print_err (const char *text)
{
  print_visible (stderr, text);
}

void
kh_cli_install_visible_output (void)
{
  g_set_print_handler (print_out);
  g_set_printerr_handler (print_err);
}
