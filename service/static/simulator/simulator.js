// The web simulator's page: sends keys, words and texts to the simulator's JSON endpoints
// (same origin, with a custom header) and shows and plays what the line answers.
// The page holds the call; the server keeps no call state.
(() => {
  "use strict";

  const main = document.getElementById("simulator");
  const api = {
    call: main.dataset.apiCall,
    press: main.dataset.apiPress,
    say: main.dataset.apiSay,
    silence: main.dataset.apiSilence,
    transferEnded: main.dataset.apiTransferEnded,
    text: main.dataset.apiText,
  };
  const csrfHeader = main.dataset.csrfHeader;
  const $ = (id) => document.getElementById(id);
  const player = $("player");

  let call = null; // {sid, from, listen: {url, digits, finish, speech} | null, dial}
  let keyed = ""; // keys of a phone number being entered
  let clips = []; // clip URLs still to play, in order
  let work = Promise.resolve(); // one request at a time, in the order the person acted

  // Each problem is shown beside what caused it: "call" (the keypad), "text" or "number".
  function queue(task, where = "call") {
    work = work.then(task).catch((error) => showError(error.message, where));
    return work;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", [csrfHeader]: "1" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(data.error || `The simulator answered HTTP ${response.status}.`);
    }
    for (const where of ["call", "text", "number"]) {
      showError("", where);
    }
    return data;
  }

  const errorBox = { call: "call-error", text: "text-error", number: "error" };

  function showError(message, where = "call") {
    $(errorBox[where]).textContent = message ? `Problem: ${message}` : "";
  }

  // Only what can be used now is enabled: keys, words and silence while the line listens.
  function updateControls() {
    const listening = Boolean(call && call.listen);
    for (const control of document.querySelectorAll(".keypad .key, #words, #say-button, #silence-button")) {
      control.disabled = !listening;
    }
    $("hangup-button").disabled = !call;
  }

  function setStatus(message) {
    $("call-status").textContent = message;
  }

  function addEntry(list, who, words, meta) {
    const item = document.createElement("li");
    item.className = who === "You" ? "you" : "line";
    const name = document.createElement("span");
    name.className = "who";
    name.textContent = `${who}: `;
    item.append(name, words);
    if (meta) {
      const small = document.createElement("span");
      small.className = "meta";
      small.textContent = meta;
      item.append(small);
    }
    list.append(item);
  }

  function you(words) {
    addEntry($("transcript"), "You", words);
  }

  // -- sound -------------------------------------------------------------------
  function playClips(urls) {
    // A key pressed during a prompt cuts it off, as on a real call.
    clips = urls.slice();
    player.pause();
    playNext();
  }

  function playNext() {
    const next = clips.shift();
    if (!next) {
      $("now-playing").textContent = "";
      return;
    }
    player.src = next;
    $("now-playing").textContent = `Playing ${next.split("/").pop()}`;
    player.play().catch(() => {
      $("now-playing").textContent = `Press play to hear ${next.split("/").pop()}`;
    });
  }

  player.addEventListener("ended", playNext);

  // -- the call ------------------------------------------------------------------
  function show(data) {
    call = data.call;
    keyed = "";
    $("keyed").hidden = true;
    for (const heard of data.heard) {
      const how = heard.clip ? `clip ${heard.clip.split("/").pop()}` : "spoken live, no clip";
      addEntry($("transcript"), "Line", heard.text, `${heard.id || "unknown prompt"}${heard.slow ? ", slow" : ""}: ${how}`);
    }
    playClips(data.heard.filter((heard) => heard.clip).map((heard) => heard.clip));
    const transferWasFocused = $("transfer").contains(document.activeElement);
    $("transfer").hidden = !data.transfer_to;
    if (transferWasFocused && !data.transfer_to) {
      $("keypad-heading").focus();
    }
    updateControls();
    if (data.ended) {
      call = null;
      updateControls();
      addEntry($("transcript"), "Line", "(hangs up)");
      setStatus("The line hung up. Call ended. Press Call to ring again.");
    } else if (data.transfer_to) {
      $("transfer-text").textContent =
        `The line is transferring you to ${data.transfer_to}. The simulator cannot connect a real call: what happened?`;
      setStatus(`Transferring you to ${data.transfer_to}.`);
    } else if (call.listen && call.listen.digits !== 1) {
      setStatus(`The line is waiting for a phone number: key it in, then press ${call.listen.finish || "nothing more"}.`);
    } else {
      setStatus(call.listen && call.listen.speech
        ? "The line is waiting for a key or words."
        : "The line is waiting for a key.");
    }
  }

  function needCall() {
    if (call && call.listen) {
      return true;
    }
    showError(call ? "The line is not listening for keys now." : "There is no call. Press Call first.");
    return false;
  }

  $("call-button").addEventListener("click", () => queue(async () => {
    $("transcript").replaceChildren();
    setStatus("Ringing the line...");
    you(`call the line from ${$("from").value}`);
    show(await post(api.call, { from: $("from").value }));
  }));

  $("hangup-button").addEventListener("click", () => queue(async () => {
    if (!call) {
      showError("There is no call to hang up.");
      return;
    }
    call = null;
    updateControls();
    $("transfer").hidden = true;
    playClips([]);
    you("(hang up)");
    setStatus("You hung up. Call ended. Press Call to ring again.");
  }));

  function pressKey(key) {
    queue(async () => {
      if (!needCall()) {
        return;
      }
      const listen = call.listen;
      if (listen.digits === 1) {
        you(`press ${key}`);
        show(await post(api.press, { call, keys: key }));
        return;
      }
      // A phone number: collect keys until the finish key (or enough digits), then send them together.
      keyed += key;
      const done = (listen.finish && key === listen.finish) || (listen.digits && keyed.length >= listen.digits);
      $("keyed").hidden = false;
      $("keyed").textContent = `Keys so far: ${keyed.split("").join(" ")}`;
      if (done) {
        you(`key in ${keyed.split("").join(" ")}`);
        show(await post(api.press, { call, keys: keyed }));
      }
    });
  }

  for (const button of document.querySelectorAll(".keypad .key")) {
    button.addEventListener("click", () => pressKey(button.dataset.key));
  }

  $("say-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const words = $("words").value.trim();
    if (!words) {
      showError("Type the words to say first.");
      $("words").focus();
      return;
    }
    queue(async () => {
      if (!needCall()) {
        return;
      }
      you(`say "${words}"`);
      show(await post(api.say, { call, words }));
      $("words").value = "";
    });
  });

  $("silence-button").addEventListener("click", () => queue(async () => {
    if (!needCall()) {
      return;
    }
    you("(stay silent)");
    show(await post(api.silence, { call }));
  }));

  function transferEnded(answered) {
    queue(async () => {
      if (!call || !call.dial) {
        showError("The call is not being transferred.");
        return;
      }
      you(answered ? "(talk to someone, then they hang up)" : "(nobody answers)");
      show(await post(api.transferEnded, { call, answered }));
    });
  }

  $("answered-button").addEventListener("click", () => transferEnded(true));
  $("no-answer-button").addEventListener("click", () => transferEnded(false));

  // -- texts -------------------------------------------------------------------
  $("text-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = $("message").value.trim();
    if (!body) {
      showError("Type a text message first.", "text");
      $("message").focus();
      return;
    }
    queue(async () => {
      const thread = $("thread");
      addEntry(thread, "You", body);
      $("message").value = "";
      const data = await post(api.text, { from: $("from").value, body });
      if (data.replies.length === 0) {
        addEntry(thread, "Line", `(${data.silent_because || "no reply"})`);
      }
      for (const reply of data.replies) {
        addEntry(thread, "Line", reply);
      }
    }, "text");
  });
})();
