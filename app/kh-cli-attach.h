/* kh-cli-attach.h: khuyenhoc-cli's attachment commands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-cli-sync.h"

G_BEGIN_DECLS

extern const KhCliCommand kh_cli_attach_commands[];

void     kh_cli_attach_usage    (FILE        *out);

G_END_DECLS
