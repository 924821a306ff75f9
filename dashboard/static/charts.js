// Draws each chart from the figure the server put in its data-figure attribute. A bar or point that
// leads somewhere carries its link in customdata: a click opens the questions behind it, the same
// page the table under the chart links to without JavaScript.
"use strict";

document.querySelectorAll("[data-figure]").forEach((element) => {
  const figure = JSON.parse(element.dataset.figure);
  Plotly.newPlot(element, figure.data, figure.layout, { displayModeBar: false, responsive: true });
  element.on("plotly_click", (event) => {
    const target = event.points.length ? event.points[0].customdata : "";
    if (target) {
      window.location.assign(target);
    }
  });
});
