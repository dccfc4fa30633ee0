/* SPDX-License-Identifier: MIT */
/* Common includes for cmocka test files. */
#ifndef SMBX_TEST_MAIN_H
#define SMBX_TEST_MAIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_alloc.h"

#define RUN_TESTS(group) cmocka_run_group_tests(group, NULL, NULL)

#endif
