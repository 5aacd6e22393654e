//! Materialisation: applying committed versions from the change log to the entries hash, inside
//! Redis, a few log records per script call. Writers run it after a commit and before they
//! start (to finish a crashed writer's committed work).

use super::handle::{Store, StoreError};
use crate::model::ListId;
use redis::AsyncCommands;

/// Change-log records applied per materialising call (each up to [`STAGE_BATCH`](super::handle::STAGE_BATCH)
/// changes).
const MATERIALIZE_RECORDS: usize = 4;

const MATERIALIZE_LUA: &str = r#"
-- KEYS: log, entries, disabled-until, state; ARGV: start id, end id, count, version.
-- Applies up to `count` log records from `start` to the entries hash. Fields are
-- `<op> <key>` with the entry's JSON as value ("-" for a deletion); upserts are applied
-- before deletions within a record. Returns the id after the last record, or '' when the
-- range is exhausted, after recording `version` as materialised. `start` may be exclusive
-- ("(<id>").
local page = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
local function apply(cmd, key, args)
  local n = #args
  local i = 1
  while i <= n do
    local j = math.min(i + 999, n)
    redis.call(cmd, key, unpack(args, i, j))
    i = j + 1
  end
end
for _, record in ipairs(page) do
  local fields = record[2]
  local upserts, deletes = {}, {}
  for i = 1, #fields, 2 do
    local field = fields[i]
    local space = string.find(field, ' ', 1, true)
    local op, key = string.sub(field, 1, space - 1), string.sub(field, space + 1)
    if op == 'deleted' then
      deletes[#deletes + 1] = key
      redis.call('ZREM', KEYS[3], key)
    else
      local json = fields[i + 1]
      upserts[#upserts + 1] = key
      upserts[#upserts + 1] = json
      if op ~= 'added' then
        local ok, entry = pcall(cjson.decode, json)
        local until_ms = nil
        if ok and type(entry) == 'table' and type(entry.disabled) == 'table'
            and type(entry.disabled.until_ms) == 'number' then
          until_ms = entry.disabled.until_ms
        end
        if until_ms then
          redis.call('ZADD', KEYS[3], string.format('%.0f', until_ms), key)
        else
          redis.call('ZREM', KEYS[3], key)
        end
      end
    end
  end
  if #upserts > 0 then apply('HSET', KEYS[2], upserts) end
  if #deletes > 0 then apply('HDEL', KEYS[2], deletes) end
end
if #page < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[4], 'materialized', ARGV[4])
  return ''
end
return '(' .. page[#page][1]
"#;

impl Store {
    /// Applies committed versions up to the committed one to the entries hash, inside Redis:
    /// a script copies a few log records at a time, so the entries never travel to the client
    /// and back, and no single call blocks Redis for long.
    pub(super) async fn materialize(&self, list: &ListId) -> Result<(), StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let materialized: Option<u64> = conn.hget(&keys.state, "materialized").await?;
        let version = self.version(list).await?;
        let done = materialized.unwrap_or(0);
        if done >= version {
            return Ok(());
        }
        let script = redis::Script::new(MATERIALIZE_LUA);
        let mut start = format!("{}-0", done + 1);
        loop {
            // Returns "(<last id applied>" to go on from, or "" once the range is done (the
            // script then records the version as materialised).
            let next: String = script
                .key(&keys.log)
                .key(&keys.entries)
                .key(&keys.disabled_until)
                .key(&keys.state)
                .arg(&start)
                .arg(format!("{version}-{}", u64::MAX))
                .arg(MATERIALIZE_RECORDS)
                .arg(version)
                .invoke_async(&mut conn)
                .await?;
            if next.is_empty() {
                return Ok(());
            }
            start = next;
        }
    }
}
