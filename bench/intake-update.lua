-- wrk script: POSTs a realistic ~600-byte Telegram update with a new update_id every request,
-- so every request is a real enqueue, not a duplicate.
local counter = 0
local threads = {}
-- thread_id is set per wrk thread by setup() (thread:set), as a global of that thread.

function setup(thread)
   thread:set("thread_id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   secret = args[1] or ""
   bot = args[2] or "bench_bot"
end

request = function()
   counter = counter + 1
   local id = thread_id * 100000000 + counter
   local body = string.format(
      '{"update_id":%d,"message":{"message_id":%d,"from":{"id":123456789,"is_bot":false,' ..
      '"first_name":"Benchmark","last_name":"User","username":"bench_user","language_code":"ru"},' ..
      '"chat":{"id":123456789,"first_name":"Benchmark","last_name":"User","username":"bench_user",' ..
      '"type":"private"},"date":1700000000,"text":"I would like to buy 250 stars, please. ' ..
      'Is the price still the same as yesterday? Thank you!","entities":[{"offset":0,"length":1,' ..
      '"type":"bold"}],"reply_markup":{"inline_keyboard":[[{"text":"Buy 100 stars","callback_data":' ..
      '"buy:100"},{"text":"Buy 250 stars","callback_data":"buy:250"}]]}}}', id, counter)
   return wrk.format("POST", "/tg/" .. bot, {
      ["Content-Type"] = "application/json",
      ["X-Telegram-Bot-Api-Secret-Token"] = secret,
   }, body)
end
