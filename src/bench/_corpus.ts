// Natural English prose the prompts are cut from (written for this project; plain ASCII, no
// double quotes or backslashes, paragraphs separated by a blank line). Prompts cycle through it,
// so it ends with a blank line and starts with a letter: the seam tokenizes like any paragraph
// break.
export const CORPUS = `The harbour town woke slowly in winter. Before the first ferry, the baker on the corner lifted the shutters and set out the trays of bread, and the smell drifted down to the water where the fishing boats rocked against their ropes. Gulls waited on the harbour wall. An old man walked his dog along the pier every morning at the same hour, and the dog always stopped at the third lamp post as if it expected to find something there.

By eight the school bus had come and gone, and the street filled with people on their way to work. Most of them knew each other by sight if not by name. They nodded, complained about the wind, and hurried on. The woman who ran the bookshop unlocked her door at nine, though she rarely sold anything before noon. She liked the quiet hours best, when she could sort the new arrivals and read the first pages of each one before deciding where it belonged.

In the afternoon the light changed. Clouds came in from the sea and the colour of the water turned from grey to a deep green, then almost black. Fishermen watched the sky and argued about whether the storm would break before dark. Some of them went out anyway, because the price of fish had been good that week and nobody wanted to miss a catch. Others stayed ashore and mended nets in the long shed by the slipway, telling the same stories they had told for thirty years.

The town had a small library on the hill, built by a merchant who had made his fortune in timber and wanted to be remembered for something gentler. It had tall windows and a reading room with a fireplace that had not been lit in living memory. Students came there to study for their exams, and retired teachers came to read the newspapers and disagree with them. The librarian kept a notebook of every question anyone asked her, and over the years the notebook had grown into six volumes.

Trains reached the town only twice a day. The station was a single platform with a wooden bench and a clock that ran four minutes fast. Visitors who arrived in summer often stayed longer than they planned. They rented rooms above the shops, swam in the cold bay, and learned to recognise the ferry by the sound of its engine long before it came around the headland. When autumn came most of them left, promising to return, and some of them did.

Farther along the coast the cliffs rose steeply, and a narrow path followed their edge for several miles. Walkers who took it saw seals on the rocks below and, on clear days, the outline of islands on the horizon. The path passed an abandoned lighthouse whose lamp had been removed long ago. Children dared each other to climb its spiral stairs, and the brave ones carved their initials into the rail at the top, where the wind was so strong it took their breath away.

Every spring the town held a market in the square. Farmers brought cheese and honey from the valleys, potters laid out their bowls on trestle tables, and a brass band played the same five tunes from morning until evening. The market was supposed to last one day, but it always spilled into a second, because the weather was never quite right on the first. People said the market was the true start of the year, more than any date on the calendar.

The doctor had practised in the town for forty years. She knew which families suffered from bad hearts and which from bad tempers, and she treated both with the same patience. When she finally retired, the whole town came to the hall to thank her. Someone made a speech that went on far too long, and someone else played the piano badly, and she laughed more that evening than anyone could remember her laughing before.

At night the harbour lights came on one by one. The water reflected them in long trembling lines, and the only sounds were the creak of ropes and the slap of small waves against the hulls. In the houses along the front, people drew their curtains and sat down to supper. The baker set his alarm for four. The librarian wrote one more question in her notebook. Out beyond the headland, a single boat was still making its way home, its engine steady and unhurried in the dark.

`
