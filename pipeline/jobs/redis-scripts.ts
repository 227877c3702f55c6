/**
 * Lua for the Redis job store. Each write is one script, so the check ("does the job exist?"),
 * the write, the state index and the change event happen atomically and in order: no reader sees
 * a job in one state's index and another state in its hash, and events arrive in write order.
 *
 * The state index keys are derived inside the scripts (`ARGV` prefix + state), which is fine on
 * a single Redis or a primary with replicas; Redis Cluster would need hash tags.
 */

/**
 * Open jobs live in the activity index (a sorted set scored by their last activity, epoch ms) and
 * final ones do not: the watchdog reads the oldest entries without scanning every job.
 */
const ACTIVITY = `
local function touch(activity, id, state, now)
  if state == 'succeeded' or state == 'failed' or state == 'cancelled' then
    redis.call('ZREM', activity, id)
  else
    redis.call('ZADD', activity, now, id)
  end
end
`;

/**
 * Retention. A job reaching a final state gets a TTL on its hash and per-job keys, and an entry in
 * `expiry:<state>` (scored by expiry, epoch ms); a reopened job loses both. `prune` removes up to
 * `batch` due jobs from their indexes (and deletes their keys, should Redis not have yet), so the
 * index sorted sets shrink with the jobs without any call scanning them. Keys are derived from the
 * prefix here, like the state indexes.
 */
const RETENTION = `
local FINAL = {'succeeded', 'failed', 'cancelled'}
local function final(s) return s == 'succeeded' or s == 'failed' or s == 'cancelled' end
local function jobKeys(prefix, id)
  local job = prefix .. 'job:' .. id
  return {job, job .. ':tasks', job .. ':results', job .. ':writes', prefix .. 'owners:' .. id}
end
local function retain(prefix, id, old, new, now, ms)
  if old and final(old) then redis.call('ZREM', prefix .. 'expiry:' .. old, id) end
  local expires = final(new) and tonumber(ms) > 0
  for _, key in ipairs(jobKeys(prefix, id)) do
    if expires then redis.call('PEXPIRE', key, ms) else redis.call('PERSIST', key) end
  end
  if expires then
    redis.call('ZADD', prefix .. 'expiry:' .. new, tonumber(now) + tonumber(ms), id)
  end
end
local function prune(prefix, now, batch)
  for _, state in ipairs(FINAL) do
    local expiry = prefix .. 'expiry:' .. state
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, batch)) do
      redis.call('DEL', unpack(jobKeys(prefix, id)))
      redis.call('ZREM', prefix .. 'index:' .. state, id)
      redis.call('ZREM', prefix .. 'index:all', id)
      redis.call('ZREM', expiry, id)
    end
  end
end
-- A key written after its job finished (a late result) expires with the job.
local function inherit(job, key)
  local ttl = redis.call('PTTL', job)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
`;

/**
 * KEYS: job, tasks, index:all, index:<state>, activity. ARGV: id, channel, spec, state, createdAt,
 * updatedAt, stage, outputs, error|'', score, prefix, now (ms), retention (ms), prune batch, then
 * task id/status pairs. A job expired by Redis but not yet pruned leaves entries behind: they are
 * dropped first, so pruning them later cannot remove the new job from its indexes.
 */
export const CREATE = `${ACTIVITY}${RETENTION}
prune(ARGV[11], ARGV[12], ARGV[14])
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for _, state in ipairs(FINAL) do
  if redis.call('ZREM', ARGV[11] .. 'expiry:' .. state, ARGV[1]) == 1 then
    redis.call('ZREM', ARGV[11] .. 'index:' .. state, ARGV[1])
  end
end
redis.call('HSET', KEYS[1], 'spec', ARGV[3], 'state', ARGV[4], 'createdAt', ARGV[5],
  'updatedAt', ARGV[6], 'stage', ARGV[7], 'outputs', ARGV[8], 'score', ARGV[10])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[9]) end
redis.call('ZADD', KEYS[3], ARGV[10], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[10], ARGV[1])
for i = 15, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
touch(KEYS[5], ARGV[1], ARGV[4], ARGV[10])
if final(ARGV[4]) then retain(ARGV[11], ARGV[1], nil, ARGV[4], ARGV[12], ARGV[13]) end
local event = '{"type":"job","jobId":' .. cjson.encode(ARGV[1])
  .. ',"state":' .. cjson.encode(ARGV[4])
if ARGV[9] ~= '' then event = event .. ',"error":' .. ARGV[9] end
redis.call('PUBLISH', ARGV[2], event .. '}')
return 1
`;

/**
 * KEYS: job, activity. ARGV: id, channel, key prefix, updatedAt, guard ('' none, 'open', or a
 * stage number: open and at that stage), now (ms), retention (ms), then field/value pairs
 * ('' deletes). Returns 0 missing, 1 applied, 2 refused by the guard.
 */
export const SET_STATE = `${ACTIVITY}${RETENTION}
local old = redis.call('HGET', KEYS[1], 'state')
if not old then return 0 end
local guard = ARGV[5]
if guard ~= '' then
  if old == 'succeeded' or old == 'failed' or old == 'cancelled' then return 2 end
  if redis.call('HEXISTS', KEYS[1], 'error') == 1 then return 2 end
  if guard ~= 'open' and redis.call('HGET', KEYS[1], 'stage') ~= guard then return 2 end
end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[4])
for i = 8, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  if value == '' then
    redis.call('HDEL', KEYS[1], field)
  else
    redis.call('HSET', KEYS[1], field, value)
  end
  if field == 'state' and value ~= old then
    local score = redis.call('HGET', KEYS[1], 'score')
    redis.call('ZREM', ARGV[3] .. 'index:' .. old, ARGV[1])
    redis.call('ZADD', ARGV[3] .. 'index:' .. value, score, ARGV[1])
    retain(ARGV[3], ARGV[1], old, value, ARGV[6], ARGV[7])
  end
end
local state = redis.call('HGET', KEYS[1], 'state')
touch(KEYS[2], ARGV[1], state, ARGV[6])
local err = redis.call('HGET', KEYS[1], 'error')
local event = '{"type":"job","jobId":' .. cjson.encode(ARGV[1])
  .. ',"state":' .. cjson.encode(state)
if err then event = event .. ',"error":' .. err end
redis.call('PUBLISH', ARGV[2], event .. '}')
return 1
`;

/**
 * KEYS: job, tasks, activity. ARGV: id, channel, taskId, status JSON, updatedAt, now (ms). One
 * hash field per task: workers never overwrite each other's. The stored `order` and `startedAt`
 * are kept (mergeTaskStatus in job.ts), and a stale queued/running write is refused
 * (taskWriteApplies in job.ts). Returns 0 missing, 1 applied, 2 refused.
 */
export const SET_TASK = `${ACTIVITY}${RETENTION}
local function ended(s) return s == 'succeeded' or s == 'failed' or s == 'cancelled' end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local status = ARGV[4]
local reopens = not ended(cjson.decode(status)['state'])
if reopens and (ended(state) or redis.call('HEXISTS', KEYS[1], 'error') == 1) then return 2 end
local raw = redis.call('HGET', KEYS[2], ARGV[3])
if raw then
  local stored = cjson.decode(raw)
  if reopens and ended(stored['state']) then return 2 end
  if stored['order'] ~= nil or stored['startedAt'] ~= nil then
    local merged = cjson.decode(status)
    if stored['order'] ~= nil then merged['order'] = stored['order'] end
    if stored['startedAt'] ~= nil then merged['startedAt'] = stored['startedAt'] end
    status = cjson.encode(merged)
  end
end
touch(KEYS[3], ARGV[1], state, ARGV[6])
redis.call('HSET', KEYS[2], ARGV[3], status)
inherit(KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[5])
redis.call('PUBLISH', ARGV[2], '{"type":"task","jobId":' .. cjson.encode(ARGV[1])
  .. ',"taskId":' .. cjson.encode(ARGV[3]) .. ',"status":' .. status .. '}')
return 1
`;

/**
 * KEYS: tasks, job, activity. ARGV: id, channel, taskId, progress, now (ms). Changes only the
 * progress of an existing task, in place.
 */
export const SET_PROGRESS = `${ACTIVITY}
local raw = redis.call('HGET', KEYS[1], ARGV[3])
if not raw then return 0 end
touch(KEYS[3], ARGV[1], redis.call('HGET', KEYS[2], 'state'), ARGV[5])
local status = cjson.decode(raw)
status['progress'] = tonumber(ARGV[4])
local encoded = cjson.encode(status)
redis.call('HSET', KEYS[1], ARGV[3], encoded)
redis.call('PUBLISH', ARGV[2], '{"type":"task","jobId":' .. cjson.encode(ARGV[1])
  .. ',"taskId":' .. cjson.encode(ARGV[3]) .. ',"status":' .. encoded .. '}')
return 1
`;

/** KEYS: job, activity. ARGV: id, now (ms). Activity without a change (the watchdog's check). */
export const TOUCH = `${ACTIVITY}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
touch(KEYS[2], ARGV[1], state, ARGV[2])
return 1
`;

/** KEYS: job, target hash. ARGV: field/value pairs. Writes only when the job exists. */
export const PUT_FIELDS = `${RETENTION}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
inherit(KEYS[1], KEYS[2])
return 1
`;

/** KEYS: job, writes set. ARGV: keys. Adds written keys; they expire with their job. */
export const ADD_WRITES = `${RETENTION}
for i = 1, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
inherit(KEYS[1], KEYS[2])
return 1
`;

/**
 * ARGV: key prefix, now (ms), prune batch, then the states. Prunes a batch of expired jobs, then
 * answers each state's index size: constant time, for metrics.
 */
export const COUNTS = `${RETENTION}
prune(ARGV[1], ARGV[2], ARGV[3])
local out = {}
for i = 4, #ARGV do out[#out + 1] = redis.call('ZCARD', ARGV[1] .. 'index:' .. ARGV[i]) end
return out
`;

/** KEYS: job, tasks, results. ARGV: task ids. */
export const RESET_TASKS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
end
return 1
`;

/**
 * One page of an index, newest first. KEYS: index. ARGV: max score ('+inf' or the cursor's
 * score), the cursor's id ('' for the first page), limit. Returns up to limit + 1 id/score pairs.
 * Jobs created in the same millisecond share a score; within a score the order is by id, and the
 * ids at or above the cursor's are skipped, so no job is shown twice or skipped at a page break.
 */
export const LIST_PAGE = `
local max, after, want = ARGV[1], ARGV[2], tonumber(ARGV[3]) + 1
local out, offset, batch = {}, 0, want + 16
while #out < want * 2 do
  local rows = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'WITHSCORES',
    'LIMIT', offset, batch)
  if #rows == 0 then break end
  for i = 1, #rows, 2 do
    local id, score = rows[i], rows[i + 1]
    if after == '' or score ~= max or id < after then
      out[#out + 1] = id
      out[#out + 1] = score
      if #out >= want * 2 then break end
    end
  end
  offset = offset + batch
end
return out
`;

/**
 * One page of a search, newest first. KEYS: index. ARGV: max score and after id (as LIST_PAGE),
 * limit, the search (lower case), the job key prefix, budget. Looks at most `budget` jobs and
 * returns the cursor to resume from ('' at the end of the index) followed by the matching ids:
 * after `limit` matches the cursor is the last one, once the budget is spent the last job looked
 * at, so a search that matches little costs a bounded call, not a read of every job.
 */
export const SEARCH_PAGE = `
local max, after, want = ARGV[1], ARGV[2], tonumber(ARGV[3])
local needle, prefix, budget = ARGV[4], ARGV[5], tonumber(ARGV[6])
local found, seen, offset, cursor = {}, 0, 0, ''
local function matches(id)
  local spec = redis.call('HGET', prefix .. id, 'spec')
  if not spec then return false end
  local ok, decoded = pcall(cjson.decode, spec)
  if not ok then return false end
  local key = string.lower(tostring(decoded.source and decoded.source.key or ''))
  local preset = string.lower(tostring(decoded.preset and decoded.preset.name or ''))
  return string.find(key, needle, 1, true) ~= nil or string.find(preset, needle, 1, true) ~= nil
end
while true do
  local rows = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'WITHSCORES',
    'LIMIT', offset, 100)
  if #rows == 0 then return {'', unpack(found)} end
  for i = 1, #rows, 2 do
    local id, score = rows[i], rows[i + 1]
    if after == '' or score ~= max or id < after then
      if #found == want then return {cursor, unpack(found)} end
      if seen == budget then return {cursor, unpack(found)} end
      seen = seen + 1
      cursor = score .. ':' .. id
      if matches(id) then found[#found + 1] = id end
    end
  end
  offset = offset + 100
end
`;
