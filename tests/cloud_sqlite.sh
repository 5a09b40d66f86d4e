#!/bin/sh
# cloud_sqlite.sh - the cloud service tests on the SQLite store.
. "$top_srcdir/tests/cloud_lib.sh"
store=sqlite:$scratch/cloud.db
. "$top_srcdir/tests/cloud_service.sh"
finish
