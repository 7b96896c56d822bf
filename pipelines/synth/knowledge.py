"""The world the synthetic generator draws from: product types, their uses and complements.

Each product type carries COSMO-style commonsense (used for / by / in, capable of, is a)
and the types it is bought with. This is the ground truth later stages are scored on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductType:
    """One kind of product and what it is for."""

    key: str
    noun: str
    category: str
    used_for: str
    used_by: str
    used_in: str
    capable_of: str
    is_a: str
    base_price: float
    variant_axis: str  # "colour", "size" or "pack"


def _t(key: str, noun: str, domain: str, used_for: str, used_by: str, used_in: str,
       capable_of: str, is_a: str, price: float, axis: str) -> ProductType:
    return ProductType(key, noun, domain, used_for, used_by, used_in, capable_of, is_a, price, axis)


PRODUCT_TYPES: tuple[ProductType, ...] = (
    # camping
    _t("tent", "Dome Tent", "Outdoors > Camping", "camping", "hikers", "campsite",
       "keeping rain out", "shelter", 140.0, "size"),
    _t("sleeping_bag", "Sleeping Bag", "Outdoors > Camping", "sleeping outdoors", "hikers",
       "campsite", "keeping you warm", "bedding", 70.0, "colour"),
    _t("sleeping_pad", "Sleeping Pad", "Outdoors > Camping", "sleeping outdoors", "hikers",
       "campsite", "insulating from the ground", "bedding", 45.0, "size"),
    _t("tent_stakes", "Tent Stakes", "Outdoors > Camping", "pitching a tent", "campers",
       "campsite", "anchoring a tent", "hardware", 12.0, "pack"),
    _t("lantern", "Camping Lantern", "Outdoors > Camping", "lighting a camp", "campers",
       "campsite", "lighting a tent", "lamp", 25.0, "colour"),
    _t("camp_stove", "Camp Stove", "Outdoors > Camping", "cooking outdoors", "campers",
       "campsite", "boiling water", "stove", 55.0, "size"),
    _t("fuel_canister", "Gas Fuel Canister", "Outdoors > Camping", "fuelling a stove",
       "campers", "campsite", "powering a camp stove", "fuel", 8.0, "pack"),
    # coffee
    _t("espresso_machine", "Espresso Machine", "Kitchen > Coffee", "making espresso",
       "coffee lovers", "kitchen", "brewing espresso", "appliance", 320.0, "colour"),
    _t("coffee_beans", "Espresso Coffee Beans", "Kitchen > Coffee", "making espresso",
       "coffee lovers", "kitchen", "being ground for coffee", "coffee", 14.0, "pack"),
    _t("milk_frother", "Milk Frother", "Kitchen > Coffee", "making cappuccino",
       "coffee lovers", "kitchen", "foaming milk", "appliance", 35.0, "colour"),
    _t("coffee_grinder", "Burr Coffee Grinder", "Kitchen > Coffee", "grinding coffee",
       "coffee lovers", "kitchen", "grinding beans", "appliance", 90.0, "colour"),
    _t("paper_filters", "Paper Coffee Filters", "Kitchen > Coffee", "brewing filter coffee",
       "coffee drinkers", "kitchen", "filtering coffee", "filter", 5.0, "pack"),
    _t("pour_over", "Pour-Over Dripper", "Kitchen > Coffee", "brewing filter coffee",
       "coffee drinkers", "kitchen", "brewing one cup", "brewer", 22.0, "colour"),
    # baking
    _t("stand_mixer", "Stand Mixer", "Kitchen > Baking", "baking", "home bakers", "kitchen",
       "kneading dough", "appliance", 260.0, "colour"),
    _t("cake_tin", "Round Cake Tin", "Kitchen > Baking", "baking cakes", "home bakers",
       "kitchen", "holding batter in the oven", "bakeware", 15.0, "size"),
    _t("baking_paper", "Baking Paper", "Kitchen > Baking", "lining tins", "home bakers",
       "kitchen", "stopping cakes sticking", "consumable", 4.0, "pack"),
    _t("piping_bags", "Piping Bags", "Kitchen > Baking", "decorating cakes", "home bakers",
       "kitchen", "piping icing", "consumable", 7.0, "pack"),
    _t("cooling_rack", "Cooling Rack", "Kitchen > Baking", "cooling bakes", "home bakers",
       "kitchen", "letting air under a cake", "bakeware", 12.0, "size"),
    # photography
    _t("camera", "Mirrorless Camera", "Electronics > Photography", "taking photos",
       "photographers", "outdoors", "recording 4K video", "camera", 900.0, "colour"),
    _t("lens", "Zoom Lens", "Electronics > Photography", "taking photos", "photographers",
       "outdoors", "zooming in", "lens", 450.0, "size"),
    _t("sd_card", "SD Memory Card", "Electronics > Photography", "storing photos",
       "photographers", "camera", "storing images", "storage", 20.0, "size"),
    _t("camera_bag", "Camera Bag", "Electronics > Photography", "carrying a camera",
       "photographers", "travel", "protecting a camera", "bag", 60.0, "colour"),
    _t("tripod", "Travel Tripod", "Electronics > Photography", "steady shots",
       "photographers", "outdoors", "holding a camera still", "stand", 80.0, "size"),
    # running
    _t("running_shoes", "Running Shoes", "Sports > Running", "running", "runners", "road",
       "cushioning each stride", "footwear", 110.0, "size"),
    _t("running_socks", "Running Socks", "Sports > Running", "running", "runners", "road",
       "preventing blisters", "clothing", 12.0, "size"),
    _t("sports_watch", "GPS Sports Watch", "Sports > Running", "tracking runs", "runners",
       "road", "measuring pace", "watch", 230.0, "colour"),
    _t("water_bottle", "Sports Water Bottle", "Sports > Running", "staying hydrated",
       "athletes", "gym", "holding water", "bottle", 15.0, "colour"),
    _t("energy_gels", "Energy Gels", "Sports > Running", "fuelling long runs", "runners",
       "race", "giving quick energy", "food", 18.0, "pack"),
    # baby
    _t("stroller", "Baby Stroller", "Baby > Travel", "walking with a baby", "parents",
       "park", "carrying a baby", "vehicle", 380.0, "colour"),
    _t("rain_cover", "Stroller Rain Cover", "Baby > Travel", "keeping a baby dry", "parents",
       "park", "keeping rain off a stroller", "cover", 20.0, "size"),
    _t("diapers", "Diapers", "Baby > Care", "changing a baby", "parents", "nursery",
       "absorbing liquid", "consumable", 25.0, "size"),
    _t("baby_wipes", "Baby Wipes", "Baby > Care", "changing a baby", "parents", "nursery",
       "cleaning skin gently", "consumable", 6.0, "pack"),
    _t("changing_mat", "Changing Mat", "Baby > Care", "changing a baby", "parents",
       "nursery", "giving a clean surface", "mat", 22.0, "colour"),
    # garden
    _t("garden_hose", "Garden Hose", "Garden > Watering", "watering plants", "gardeners",
       "garden", "carrying water", "hose", 35.0, "size"),
    _t("hose_nozzle", "Hose Spray Nozzle", "Garden > Watering", "watering plants",
       "gardeners", "garden", "spraying water", "nozzle", 12.0, "colour"),
    _t("pruning_shears", "Pruning Shears", "Garden > Tools", "pruning shrubs", "gardeners",
       "garden", "cutting branches", "tool", 28.0, "size"),
    _t("garden_gloves", "Gardening Gloves", "Garden > Tools", "protecting hands",
       "gardeners", "garden", "keeping thorns out", "clothing", 9.0, "size"),
    _t("plant_pot", "Terracotta Plant Pot", "Garden > Planting", "growing plants",
       "gardeners", "patio", "holding soil", "container", 11.0, "size"),
    _t("potting_soil", "Potting Soil", "Garden > Planting", "growing plants", "gardeners",
       "patio", "feeding roots", "soil", 9.0, "pack"),
    # party
    _t("paper_plates", "Paper Party Plates", "Home > Party", "serving party food",
       "party hosts", "birthday party", "holding food", "tableware", 5.0, "pack"),
    _t("paper_cups", "Paper Party Cups", "Home > Party", "serving drinks",
       "party hosts", "birthday party", "holding drinks", "tableware", 5.0, "pack"),
    _t("napkins", "Paper Napkins", "Home > Party", "wiping hands", "party hosts",
       "birthday party", "absorbing spills", "tableware", 3.0, "pack"),
    _t("balloons", "Party Balloons", "Home > Party", "decorating a party", "party hosts",
       "birthday party", "floating", "decoration", 6.0, "colour"),
    _t("candles", "Birthday Candles", "Home > Party", "decorating a cake", "party hosts",
       "birthday party", "burning on a cake", "decoration", 3.0, "colour"),
    # cycling
    _t("bike_helmet", "Bicycle Helmet", "Sports > Cycling", "cycling safely", "cyclists",
       "road", "protecting the head", "safety gear", 60.0, "size"),
    _t("bike_lights", "Bike Light Set", "Sports > Cycling", "cycling at night", "cyclists",
       "road", "making a bike visible", "lamp", 25.0, "colour"),
    _t("bike_lock", "D-Lock Bike Lock", "Sports > Cycling", "securing a bike", "cyclists",
       "city", "stopping theft", "lock", 40.0, "size"),
    _t("repair_kit", "Puncture Repair Kit", "Sports > Cycling", "fixing punctures",
       "cyclists", "road", "patching an inner tube", "tool kit", 8.0, "pack"),
    _t("bike_pump", "Bicycle Pump", "Sports > Cycling", "inflating tyres", "cyclists",
       "road", "pumping air", "pump", 22.0, "colour"),
)

# Unordered pairs of product types that are bought to be used together.
COMPLEMENT_TYPES: tuple[tuple[str, str], ...] = (
    ("tent", "sleeping_bag"), ("tent", "sleeping_pad"), ("tent", "tent_stakes"),
    ("tent", "lantern"), ("sleeping_bag", "sleeping_pad"), ("camp_stove", "fuel_canister"),
    ("espresso_machine", "coffee_beans"), ("espresso_machine", "milk_frother"),
    ("coffee_grinder", "coffee_beans"), ("pour_over", "paper_filters"),
    ("coffee_grinder", "pour_over"),
    ("stand_mixer", "cake_tin"), ("cake_tin", "baking_paper"), ("cake_tin", "cooling_rack"),
    ("stand_mixer", "piping_bags"),
    ("camera", "lens"), ("camera", "sd_card"), ("camera", "camera_bag"), ("camera", "tripod"),
    ("running_shoes", "running_socks"), ("running_shoes", "sports_watch"),
    ("water_bottle", "energy_gels"),
    ("stroller", "rain_cover"), ("diapers", "baby_wipes"), ("diapers", "changing_mat"),
    ("garden_hose", "hose_nozzle"), ("pruning_shears", "garden_gloves"),
    ("plant_pot", "potting_soil"),
    ("paper_plates", "paper_cups"), ("paper_plates", "napkins"), ("balloons", "candles"),
    ("paper_cups", "napkins"),
    ("bike_helmet", "bike_lights"), ("bike_lock", "bike_lights"), ("repair_kit", "bike_pump"),
)

BRANDS: tuple[str, ...] = (
    "Northpeak", "Everfield", "Kestrel", "Brightwater", "Oakridge", "Lumen & Co", "Saltmarsh",
    "Harbor Lane", "Ironbark", "Meadowlark", "Tidewell", "Copperfox", "Silverline", "Redcliff",
    "Bluestem", "Foxglove", "Granite Works", "Willowby", "Stonehaven", "Aurora Goods",
)

SERIES: tuple[str, ...] = (
    "Classic", "Pro", "Lite", "Trail", "Urban", "Eco", "Max", "Compact", "Deluxe", "Essential",
    "Sport", "Studio", "Explorer", "Heritage", "Nova", "Prime", "Summit", "Voyager", "Zen",
    "Aero",
)

VARIANT_VALUES: dict[str, tuple[tuple[str, float], ...]] = {
    "colour": (("Forest Green", 1.0), ("Navy Blue", 1.0), ("Charcoal", 1.0), ("Sunset Red", 1.0),
               ("Sand", 1.0), ("Sky Blue", 1.0), ("Plum", 1.0), ("White", 1.0)),
    "size": (("Small", 0.85), ("Medium", 1.0), ("Large", 1.2), ("XL", 1.35), ("XS", 0.8),
             ("2XL", 1.45), ("Mini", 0.7), ("Family", 1.6)),
    "pack": (("Pack of 10", 1.0), ("Pack of 25", 2.2), ("Pack of 50", 4.0), ("Pack of 5", 0.6),
             ("Pack of 100", 7.5), ("Twin Pack", 1.8), ("Single", 0.5), ("Bulk 200", 14.0)),
}

COMMONSENSE_RELATIONS: tuple[str, ...] = ("used_for", "used_by", "used_in", "capable_of", "is_a")
