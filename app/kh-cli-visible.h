/* kh-cli-visible.h: text the command-line programs did not write, made visible and harmless
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  /* Keeps line breaks and tabs: for whole outputs whose layout is the program's own. */
  KH_CLI_VISIBLE_LAYOUT = 0,
  /* Shows line breaks and tabs too: for one value inside a line, so it cannot make lines or
   * columns of its own. */
  KH_CLI_VISIBLE_ONE_LINE = 1 << 0,
} KhCliVisibleFlags;

/* @text with every control character (C0, DEL, C1), every bidirectional override or isolate
 * and every byte that is not UTF-8 shown as a visible escape ("\u001b", U+FFFD for a bad
 * byte), so a terminal neither runs nor hides any of it. NULL gives NULL. */
char *kh_cli_visible (const char        *text,
                      KhCliVisibleFlags  flags);

/* Routes g_print() and g_printerr() through kh_cli_visible (…, KH_CLI_VISIBLE_LAYOUT): whatever
 * a server, a file or a database put in a message, no escape sequence reaches the terminal. */
void  kh_cli_install_visible_output (void);

G_END_DECLS
