/* django-asl admin: draw definition graphs (Cytoscape.js + dagre), colour the path taken,
   poll a running execution or batch, and draw statistics charts (Chart.js). No network
   access besides the admin's own JSON endpoints. */
(function () {
  "use strict";
  var COLOURS = {running: "#1f77b4", succeeded: "#2ca02c", failed: "#d62728", caught: "#ff7f0e", retried: "#bcbd22"};

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function elements(graph) {
    var items = [];
    graph.groups.forEach(function (group) {
      // A group box sits inside its Parallel/Map state's box.
      items.push({data: {id: group.id, label: group.label, parent: group.parent, kind: "group"}});
    });
    var parents = {};
    graph.groups.forEach(function (group) { parents[group.parent] = true; });
    graph.nodes.forEach(function (node) {
      items.push({data: {id: node.id, label: node.name + "\n" + node.type, parent: node.group || undefined,
                         kind: parents[node.id] ? "container" : "state", type: node.type}});
    });
    graph.edges.forEach(function (edge, index) {
      items.push({data: {id: "edge" + index, source: edge.source, target: edge.target, label: edge.label,
                         kind: edge.kind}});
    });
    return items;
  }

  function colour(cy, inspection) {
    if (!inspection) { return; }
    cy.nodes().forEach(function (node) {
      var found = inspection.nodes[node.id()];
      node.data("outcome", found ? found.status : "");
    });
    Object.keys(inspection.children || {}).forEach(function (path) {
      var counts = inspection.children[path];
      var outcome = counts.FAILED || counts.TIMED_OUT || counts.ABORTED ? "failed"
        : counts.RUNNING ? "running" : "succeeded";
      var group = cy.getElementById("group:" + path);
      if (group.nonempty()) {
        group.data("outcome", outcome);
        group.data("label", group.data("label").split(" (")[0] + " (" + Object.keys(counts).map(function (k) {
          return counts[k] + " " + k.toLowerCase();
        }).join(", ") + ")");
      }
    });
    var status = document.getElementById("asl-execution-status");
    if (status) {
      status.textContent = inspection.status;
      status.className = "asl-status asl-" + inspection.status.toLowerCase();
    }
    document.getElementById("asl-diagram").setAttribute("data-outcomes", JSON.stringify(
      cy.nodes().filter(function (n) { return n.data("outcome"); }).map(function (n) {
        return [n.id(), n.data("outcome")];
      })));
  }

  function draw() {
    var container = document.getElementById("asl-diagram");
    var graph = readJson("asl-graph");
    if (!container || !graph || typeof cytoscape === "undefined") { return; }
    var style = [
      {selector: "node", style: {"label": "data(label)", "text-wrap": "wrap", "text-valign": "center",
        "font-size": 11, "shape": "round-rectangle", "width": 150, "height": 44, "background-color": "#f4f4f4",
        "border-width": 1, "border-color": "#999"}},
      {selector: "node[kind = 'container'], node[kind = 'group']", style: {"text-valign": "top",
        "background-opacity": 0.08, "border-style": "dashed", "padding": 12}},
      {selector: "edge", style: {"curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5,
        "label": "data(label)", "font-size": 9, "line-color": "#888", "target-arrow-color": "#888"}},
      {selector: "edge[kind = 'catch']", style: {"line-style": "dashed", "line-color": "#ff7f0e",
        "target-arrow-color": "#ff7f0e"}},
      {selector: "edge[kind = 'default']", style: {"line-style": "dotted"}}
    ];
    Object.keys(COLOURS).forEach(function (outcome) {
      style.push({selector: "node[outcome = '" + outcome + "']", style: {"border-width": 3,
        "border-color": COLOURS[outcome], "background-color": COLOURS[outcome], "background-opacity": 0.35}});
    });
    if (typeof cytoscapeDagre !== "undefined" && !draw.registered) { cytoscape.use(cytoscapeDagre); draw.registered = true; }
    var cy = cytoscape({container: container, elements: elements(graph), style: style,
      layout: {name: "dagre", rankDir: "TB", nodeSep: 30, rankSep: 40}, wheelSensitivity: 0.2});
    window.aslDiagram = cy;
    colour(cy, readJson("asl-inspection"));
    var url = container.getAttribute("data-status-url");
    if (url && container.getAttribute("data-running")) { poll(url, function (inspection) {
      colour(cy, inspection);
      if (inspection.status !== "RUNNING") { window.location.reload(); }  // output, links and actions change
      return inspection.status === "RUNNING";
    }); }
  }

  function poll(url, update) {
    // Every 1.5 s while update() returns true; errors (e.g. a lost session) stop the polling.
    var timer = window.setInterval(function () {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      }).then(function (data) {
        if (!update(data)) { window.clearInterval(timer); }
      }).catch(function () { window.clearInterval(timer); });
    }, 1500);
  }

  function batchProgress() {
    var box = document.getElementById("asl-batch-progress");
    if (!box) { return; }
    function show(batch) {
      var done = batch.succeeded + batch.failed + batch.cancelled;
      var bar = document.getElementById("asl-batch-bar");
      bar.max = batch.total || 1;
      bar.value = done;
      document.getElementById("asl-batch-figures").textContent = done + "/" + batch.total + " done: " +
        batch.succeeded + " succeeded, " + batch.failed + " failed, " + batch.running + " running, " +
        batch.pending + " pending";
      var status = document.getElementById("asl-batch-status");
      status.textContent = batch.status;
      status.className = "asl-status asl-" + batch.status.toLowerCase();
      return batch.status === "RUNNING";
    }
    if (show(readJson("asl-batch"))) { poll(box.getAttribute("data-status-url"), function (batch) {
      var running = show(batch);
      if (!running) { window.location.reload(); }  // the figures table, items and the Cancel link change
      return running;
    }); }
  }

  function charts() {
    var buckets = readJson("asl-buckets");
    if (!buckets || typeof Chart === "undefined") { return; }
    var labels = buckets.map(function (b) { return b.start.slice(0, 16).replace("T", " "); });
    var statuses = Object.keys(buckets.length ? buckets[0].statuses : {});
    var palette = {RUNNING: "#1f77b4", SUCCEEDED: "#2ca02c", FAILED: "#d62728", TIMED_OUT: "#9467bd", ABORTED: "#8c564b"};
    new Chart(document.getElementById("asl-chart-counts"), {type: "bar", data: {labels: labels,
      datasets: statuses.map(function (s) { return {label: s, backgroundColor: palette[s],
        data: buckets.map(function (b) { return b.statuses[s].count; })}; })},
      options: {maintainAspectRatio: false, animation: false, plugins: {title: {display: true, text: "Executions by status"}},
        scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true}}}});
    var lines = [];
    ["SUCCEEDED", "FAILED"].forEach(function (s) {
      ["p50", "p95"].forEach(function (p) {
        lines.push({label: s + " " + p, borderColor: palette[s], borderDash: p === "p95" ? [6, 3] : [], spanGaps: true,
          data: buckets.map(function (b) { return b.statuses[s] ? b.statuses[s][p + "_seconds"] : null; })});
      });
    });
    new Chart(document.getElementById("asl-chart-durations"), {type: "line", data: {labels: labels, datasets: lines},
      options: {maintainAspectRatio: false, animation: false,
        plugins: {title: {display: true, text: "Duration (seconds), p50 and p95"}}, scales: {y: {beginAtZero: true}}}});
  }

  document.addEventListener("DOMContentLoaded", function () { draw(); batchProgress(); charts(); });
})();
