#!/bin/sh
# cloud_redis.sh - the cloud service tests on a redis-server this test
# starts, and two vigil-cloudd nodes sharing it.
. "$top_srcdir/tests/cloud_lib.sh"
start_redis
store=$redis_url
. "$top_srcdir/tests/cloud_service.sh"

# a second node on the same store sees the first one's writes at once
start_cloudd node2 --store "$store"
n=$(printf 'two nodes' | sha256sum | cut -c1-64)
api PUT "$srv_url/v1/verdicts/$n" "$global" '{"verdict":"malicious","name":"Via.Node1"}'
expect_code 200 "write through node 1"
api GET "$node2_url/v1/lookup/$n" "$b_user"
expect_grep 'Via.Node1' "$body" "node 2 answers it"
api DELETE "$node2_url/v1/verdicts/$n" "$global"
expect_code 200 "delete through node 2"
api GET "$srv_url/v1/lookup/$n" "$b_user"
expect_grep '"verdict":"unknown"' "$body" "node 1 sees the delete"
finish
