"""Tiny hand-written catalogs for the title-structure tests."""

# Variants by design, character, scent, herb and number: not one colour or size word.
DESIGNS = [
    "HERB MARKER THYME", "HERB MARKER ROSEMARY", "HERB MARKER BASIL", "HERB MARKER MINT",
    "DOLLY GIRL PAPER CUPS", "DOLLY GIRL PAPER PLATES", "SPACEBOY PAPER CUPS", "SPACEBOY PAPER PLATES",
    "PARTY PAPER CUPS", "DOLLY GIRL BEAKER", "SPACEBOY BEAKER", "DOLLY GIRL LUNCH BOX", "SPACEBOY LUNCH BOX",
    "ENAMEL METAL DOOR SIGN 4", "ENAMEL METAL DOOR SIGN 9", "ENAMEL METAL DOOR SIGN 1",
    "OCEAN SCENT CANDLE IN JEWELLED BOX", "VANILLA SCENT CANDLE IN JEWELLED BOX",
    "ROSE SCENT CANDLE IN JEWELLED BOX", "HEART T-LIGHT HOLDER WILLIE WINKIE",
    "STAR T-LIGHT HOLDER WILLIE WINKIE", "HANGING HEART T-LIGHT HOLDER",
]
GROCERY = [
    "Organic Whole Milk 1L", "Organic Whole Milk 2L", "Organic Semi Skimmed Milk 1L",
    "Free Range Eggs 6 pack", "Free Range Eggs 12 pack", "Wholemeal Bread 800g", "White Bread 800g",
    "Strawberry Jam 340g", "Raspberry Jam 340g", "Apricot Jam 340g", "Strawberry Yogurt 500g",
    "Raspberry Yogurt 500g", "Cheddar Cheese Mild 400g", "Cheddar Cheese Mature 400g",
    "Salted Butter 250g", "Unsalted Butter 250g", "Orange Juice 1L", "Apple Juice 1L",
    "Tomato Ketchup 500ml", "Mayonnaise 500ml",
]
