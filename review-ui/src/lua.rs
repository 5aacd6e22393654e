//! The Lua scripts that make each review transition atomic in Redis.
//!
//! Every script takes the audit stream as `KEYS[1]` and its sequence counter as `KEYS[2]`, and
//! appends its audit entries itself, so no transition is ever visible without its audit record
//! (and no audit record exists for a transition that did not happen). Times come from the
//! caller's injected clock as Unix milliseconds, never from Redis's `TIME`.

/// Helpers prepended to every script.
const PRELUDE: &str = r#"
local function audit(subject, actor, at, action, before, after, cause)
  local seq = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], '*', 'seq', seq, 'subject', subject, 'actor', actor, 'at', at,
    'action', action, 'before', before, 'after', after, 'cause', cause)
  return seq
end

-- Returns cases whose lease ended before `now` to their queue.
local function reap(leases, prefix, now, limit)
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. now, 'LIMIT', 0, limit)
  for _, id in ipairs(expired) do
    local ck = prefix .. ':case:' .. id
    local holder = redis.call('HGET', ck, 'holder') or ''
    redis.call('ZREM', leases, id)
    redis.call('HDEL', ck, 'holder', 'lease_until')
    redis.call('HINCRBY', ck, 'ver', 1)
    if redis.call('HGET', ck, 'state') == 'open' then
      redis.call('ZADD', redis.call('HGET', ck, 'queue'), redis.call('HGET', ck, 'score'), id)
    end
    audit(id, 'system', now, 'lease.expired', cjson.encode({holder = holder}), '{}',
      'lease ended without a decision')
  end
  return #expired
end
"#;

fn with_prelude(body: &str) -> redis::Script {
    redis::Script::new(&format!("{PRELUDE}\n{body}"))
}

/// Creates a case unless it exists.
///
/// KEYS: audit, seq, case, queue, deadlines. ARGV: case id, now, doc, state, score, audit
/// `after`, actor, then deadline (member, score) pairs.
pub fn create_case() -> redis::Script {
    with_prelude(
        r#"
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HSET', KEYS[3], 'doc', ARGV[3], 'ver', 1, 'state', ARGV[4], 'score', ARGV[5],
  'queue', KEYS[4], 'esc', 0)
if ARGV[4] == 'open' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1]) end
for i = 8, #ARGV, 2 do redis.call('ZADD', KEYS[5], ARGV[i + 1], ARGV[i]) end
audit(ARGV[1], ARGV[7], ARGV[2], 'case.created', '{}', ARGV[6], '')
return 1
"#,
    )
}

/// Adds a match to its case, creating the case on the first match of a (post, media).
/// Returns 0 for a match already recorded, 1 for a match added to an existing case, 2 for a
/// new case.
///
/// KEYS: audit, seq, case, match index, match list, queue, deadlines, cluster set, case's
/// entry set. ARGV: case id, match id, match JSON, now, new-case doc, score, entry key, audit
/// `after`, then deadline (member, score) pairs.
pub fn add_match() -> redis::Script {
    with_prelude(
        r#"
if not redis.call('SET', KEYS[4], ARGV[1], 'NX') then return 0 end
redis.call('RPUSH', KEYS[5], ARGV[3])
redis.call('SADD', KEYS[8], ARGV[1])
redis.call('SADD', KEYS[9], ARGV[7])
if redis.call('EXISTS', KEYS[3]) == 1 then
  local old = tonumber(redis.call('HGET', KEYS[3], 'score'))
  if tonumber(ARGV[6]) < old then
    redis.call('HSET', KEYS[3], 'score', ARGV[6])
    local q = redis.call('HGET', KEYS[3], 'queue')
    if redis.call('ZSCORE', q, ARGV[1]) then redis.call('ZADD', q, ARGV[6], ARGV[1]) end
  end
  audit(ARGV[1], 'matcher', ARGV[4], 'match.added', '{}', cjson.encode({match_id = ARGV[2]}), '')
  return 1
end
redis.call('HSET', KEYS[3], 'doc', ARGV[5], 'ver', 1, 'state', 'open', 'score', ARGV[6],
  'queue', KEYS[6], 'esc', 0)
redis.call('ZADD', KEYS[6], ARGV[6], ARGV[1])
for i = 9, #ARGV, 2 do redis.call('ZADD', KEYS[7], ARGV[i + 1], ARGV[i]) end
audit(ARGV[1], 'matcher', ARGV[4], 'case.created', '{}', ARGV[8], '')
return 2
"#,
    )
}

/// Claims the first case of the first non-empty queue, after returning expired leases.
///
/// KEYS: audit, seq, leases, queue… ARGV: now, lease end, actor, key prefix, reap limit.
/// Returns `{id}` or `{}`.
pub fn claim() -> redis::Script {
    with_prelude(
        r#"
reap(KEYS[3], ARGV[4], ARGV[1], tonumber(ARGV[5]))
for i = 4, #KEYS do
  local top = redis.call('ZRANGE', KEYS[i], 0, 0)
  if #top > 0 then
    local id = top[1]
    local ck = ARGV[4] .. ':case:' .. id
    redis.call('ZREM', KEYS[i], id)
    redis.call('HSET', ck, 'holder', ARGV[3], 'lease_until', ARGV[2])
    redis.call('HSETNX', ck, 'first_claimed_at', ARGV[1])
    redis.call('HINCRBY', ck, 'ver', 1)
    redis.call('ZADD', KEYS[3], ARGV[2], id)
    audit(id, ARGV[3], ARGV[1], 'case.claimed', '{}',
      cjson.encode({holder = ARGV[3], lease_until = tonumber(ARGV[2])}), '')
    return {id}
  end
end
return {}
"#,
    )
}

/// Returns expired leases to their queues. KEYS: audit, seq, leases. ARGV: now, prefix, limit.
pub fn reap_leases() -> redis::Script {
    with_prelude("return reap(KEYS[3], ARGV[2], ARGV[1], tonumber(ARGV[3]))")
}

/// A compare-and-set transition: if the case's version is still the one read (and, when
/// given, the actor still holds an unexpired lease), writes the new document and state,
/// appends the audit entry and runs the extra commands.
///
/// KEYS: audit, seq, case. ARGV: expected version, required holder or '', now, doc, state,
/// case id, actor, action, before, after, cause, command count, then each command as its
/// argument count followed by its arguments.
/// Returns `{1, seq}`, `{0, 'conflict'}` or `{0, 'not_holder'}`.
pub fn transition() -> redis::Script {
    with_prelude(
        r#"
local cur = redis.call('HMGET', KEYS[3], 'ver', 'holder', 'lease_until')
if cur[1] ~= ARGV[1] then return {0, 'conflict'} end
if ARGV[2] ~= '' and (cur[2] ~= ARGV[2] or tonumber(cur[3] or '0') < tonumber(ARGV[3])) then
  return {0, 'not_holder'}
end
redis.call('HSET', KEYS[3], 'doc', ARGV[4], 'state', ARGV[5], 'ver', tonumber(ARGV[1]) + 1)
local seq = audit(ARGV[6], ARGV[7], ARGV[3], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
local i = 13
for _ = 1, tonumber(ARGV[12]) do
  local argc = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + argc))
  i = i + 1 + argc
end
return {1, seq}
"#,
    )
}

/// Fires due deadlines: takes the earliest due ones off the deadline set in one command and,
/// for each whose case is still open, records the escalation or breach with its cause.
/// Atomic, so a deadline fires once however many replicas sweep. The sequence numbers of the
/// batch's audit entries are reserved with one `INCRBY`.
///
/// KEYS: audit, seq, deadlines, SLA event stream. ARGV: now, limit, prefix.
/// Returns `{taken, fired}`.
pub fn sweep() -> redis::Script {
    redis::Script::new(
        r#"
local now = ARGV[1]
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'WITHSCORES', 'LIMIT', 0,
  tonumber(ARGV[2]))
local taken = #due / 2
if taken == 0 then return {0, 0} end
-- The first `taken` members by rank are exactly those read (the range starts at -inf).
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, taken - 1)
local t = tonumber(now)
local fire = {}
for i = 1, #due, 2 do
  local at = due[i + 1]
  local id, run, kind = string.match(due[i], '^(.*)|(%d+)|(%w+)$')
  if id then
    local ck = ARGV[3] .. ':case:' .. id
    local f = redis.call('HMGET', ck, 'state', 'holder', 'lease_until')
    if f[1] == 'open' then
      local cause = 'not claimed'
      if f[2] and tonumber(f[3] or '0') >= t then
        cause = 'claimed by ' .. f[2] .. ', not decided'
      end
      if kind == 'breach' then
        redis.call('HSET', ck, 'breached_at', at)
      else
        redis.call('HSET', ck, 'esc', string.sub(kind, 2))
      end
      fire[#fire + 1] = {id, run, kind, at, cause}
    end
  end
end
if #fire == 0 then return {taken, 0} end
local seq = redis.call('INCRBY', KEYS[2], #fire) - #fire
for _, e in ipairs(fire) do
  redis.call('XADD', KEYS[4], '*', 'case', e[1], 'run', e[2], 'kind', e[3], 'due_at', e[4],
    'fired_at', now, 'cause', e[5])
  seq = seq + 1
  redis.call('XADD', KEYS[1], '*', 'seq', seq, 'subject', e[1], 'actor', 'sla', 'at', now,
    'action', 'sla.' .. e[3], 'before', '{}', 'after', '{"due_at":' .. e[4] .. '}',
    'cause', e[5])
end
return {taken, #fire}
"#,
    )
}

/// Stores a received record (a removal order, notice or complaint) once. KEYS: audit, seq,
/// record. ARGV: record id, now, actor, audit action, then field/value pairs (one named
/// `sha256`). Returns 1 if stored, 0 if it existed.
pub fn create_record() -> redis::Script {
    with_prelude(
        r#"
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
audit(ARGV[1], ARGV[3], ARGV[2], ARGV[4], '{}',
  cjson.encode({sha256 = redis.call('HGET', KEYS[3], 'sha256')}), '')
return 1
"#,
    )
}

/// Marks a takedown action published once Kafka acknowledged it: sets `published_at` once
/// (audited), takes it out of the Kafka outbox and, when a webhook is configured, puts it in
/// the webhook outbox, all in one step so a crash cannot lose the webhook delivery.
/// KEYS: audit, seq, action hash, outbox, webhook outbox. ARGV: action id, actor, now,
/// published time, webhook flag ('1' or '0'). Returns 1 if marked now, 0 if it was already.
pub fn mark_published() -> redis::Script {
    with_prelude(
        r#"
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('HSETNX', KEYS[3], 'published_at', ARGV[4]) == 0 then return 0 end
if ARGV[5] == '1' then redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[1]) end
audit(ARGV[1], ARGV[2], ARGV[3], 'action.published_at', '{}',
  cjson.encode({published_at = ARGV[4]}), '')
return 1
"#,
    )
}

/// Records a fact once about a subject (a published or enforced action, a purge): sets the
/// field if unset and audits it. KEYS: audit, seq, hash. ARGV: subject, actor, now, field,
/// value, action. Returns 1 if set now, 0 if it was already set.
pub fn set_once() -> redis::Script {
    with_prelude(
        r#"
if redis.call('HSETNX', KEYS[3], ARGV[4], ARGV[5]) == 0 then return 0 end
audit(ARGV[1], ARGV[2], ARGV[3], ARGV[6], '{}', cjson.encode({[ARGV[4]] = ARGV[5]}), '')
return 1
"#,
    )
}

/// Registers a trusted flagger or changes its entry, with its audit entry. KEYS: audit, seq,
/// registry hash, account index. ARGV: id, now, actor, action, new JSON, expected JSON ('' = the
/// id must be new), account ('' = none), audit `after`, cause. Returns 1; 0 if the entry exists
/// (new) or changed since read; -1 if the account is bound to another entry.
pub fn put_flagger() -> redis::Script {
    with_prelude(
        r#"
local old = redis.call('HGET', KEYS[3], ARGV[1])
if ARGV[6] == '' then
  if old then return 0 end
  if ARGV[7] ~= '' and redis.call('HSETNX', KEYS[4], ARGV[7], ARGV[1]) == 0 then return -1 end
elseif old ~= ARGV[6] then
  return 0
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
audit('flagger:' .. ARGV[1], ARGV[3], ARGV[2], ARGV[4], '{}', ARGV[8], ARGV[9])
return 1
"#,
    )
}

/// Seals audit entries: if the sealed head is still `expected`, stores each entry's chain hash
/// and moves the head. KEYS: seals hash, head hash. ARGV: expected head id ('' for none), new
/// head id, new head hash, then (entry id, hash) pairs. Returns 1, or 0 if another replica
/// sealed first.
pub fn seal() -> redis::Script {
    redis::Script::new(
        r#"
local head = redis.call('HGET', KEYS[2], 'id') or ''
if head ~= ARGV[1] then return 0 end
-- Up to 500 entries per HSET (Lua's unpack has a stack limit).
for i = 4, #ARGV, 1000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'hash', ARGV[3])
return 1
"#,
    )
}
