/* kh-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-error.h"

G_DEFINE_QUARK (kh-data-error-quark, kh_data_error)
