/* fuzz-csv.c: the CSV reader must never crash, hang or read out of bounds, whatever the bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "fuzz-util.h"
#include "kh-csv.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  KhSheetLimits limits;
  GError *error = NULL;
  gsize bytes = 0;

  kh_sheet_limits_init (&limits);
  limits.max_rows = 10000;
  limits.max_columns = 64;
  limits.max_cell = 4096;
  if (!kh_csv_read_data ((const char *) data, size, &limits, fuzz_count_cb, &bytes, &error))
    {
      g_assert (error != NULL && error->message != NULL);
      g_error_free (error);
    }
  return 0;
}
